import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
public import Retrieval

/// Speech in: a recording becomes the text of the question.
public protocol SpeechToText: Sendable {
    /// `whisper:base` or `api:MODEL`, shown by `/api/chat/status`.
    var name: String { get }
    var detail: String? { get }
    func transcribe(_ audio: WAVAudio) async throws -> Transcript
}

/// Speech out: the answer read aloud.
public protocol TextToSpeech: Sendable {
    var name: String { get }
    func speak(_ text: String) async throws -> WAVAudio
}

extension WhisperRecognizer: SpeechToText {
    public var name: String { "whisper:" + ((modelPath as NSString).lastPathComponent as NSString).deletingPathExtension.replacingOccurrences(of: "ggml-", with: "") }
    public var detail: String? {
        let count = SpeechPrompt.nameCount(prompt)
        let names = count == 0 ? "no names of the knowledge bank yet" : "prompted with \(count) names of the knowledge bank"
        return "language \(options.language), beam \(options.beamSize), \(names)"
    }

    public func transcribe(_ audio: WAVAudio) async throws -> Transcript {
        try await transcribe(audio, prompt: nil)
    }
}

extension SpeechSynthesizer: TextToSpeech {
    public var name: String { "espeak-ng:\(voice)" }
}
