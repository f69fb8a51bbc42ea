import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
public import Retrieval

/// Speech in: a recording becomes the text of the question.
public protocol SpeechToText: Sendable {
    /// `pocketsphinx` or `api:MODEL`, shown by `/api/chat/status`.
    var name: String { get }
    var detail: String? { get }
    func transcribe(_ audio: WAVAudio) async throws -> String
}

/// Speech out: the answer read aloud.
public protocol TextToSpeech: Sendable {
    var name: String { get }
    func speak(_ text: String) async throws -> WAVAudio
}

extension SpeechRecognizer: SpeechToText {
    public var name: String { "pocketsphinx" }
    public var detail: String? {
        let (model, dictionary) = models
        return "language model: \((model as NSString).lastPathComponent), dictionary: \((dictionary as NSString).lastPathComponent)"
    }

    public func transcribe(_ audio: WAVAudio) async throws -> String {
        try await transcribe(audio.resampled(to: 16_000).samples)
    }
}

extension SpeechSynthesizer: TextToSpeech {
    public var name: String { "espeak-ng:\(voice)" }
}
