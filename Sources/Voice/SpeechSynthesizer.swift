import CVoice
import Foundation
import Logging
import NIOPosix
import Synchronization

/// The built-in voice: eSpeak NG, one synthesis at a time (its state is global).
public final class SpeechSynthesizer: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private static let lock = Mutex<Int?>(nil)
    public let voice: String
    public let wordsPerMinute: Int

    public init(voice: String = "en-us", wordsPerMinute: Int = 165) {
        self.voice = voice
        self.wordsPerMinute = wordsPerMinute
    }

    public static var available: Bool { FileManager.default.fileExists(atPath: "/usr/lib/x86_64-linux-gnu/espeak-ng-data") || FileManager.default.fileExists(atPath: "/usr/share/espeak-ng-data") }

    /// Speech for `text` as 16-bit mono samples at the synthesiser's rate. Citation markers are not read aloud.
    public func speak(_ text: String) async throws -> WAVAudio {
        let spoken = Self.speakable(text)
        let voice = voice
        let rate = wordsPerMinute
        return try await NIOThreadPool.singleton.runIfActive {
            try Self.lock.withLock { sampleRate in
                if sampleRate == nil {
                    let rate = omnifin_tts_init(nil)
                    guard rate > 0 else { throw Failure(description: "eSpeak NG did not start (is espeak-ng-data installed?)") }
                    sampleRate = Int(rate)
                }
                var pointer: UnsafeMutablePointer<Int16>?
                let count = omnifin_tts_synthesize(spoken, voice, Int32(rate), &pointer)
                guard count >= 0 else { throw Failure(description: "eSpeak NG could not speak with the voice \(voice)") }
                defer { omnifin_tts_free(pointer) }
                let samples = pointer.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
                return WAVAudio(sampleRate: sampleRate ?? 22_050, samples: samples)
            }
        }
    }

    /// The text without `[n]` markers and Markdown marks.
    public static func speakable(_ text: String) -> String {
        text.replacing(/\s*\[\d+(?:,\s*\d+)*\]/, with: "").replacingOccurrences(of: "**", with: "").replacingOccurrences(of: "#", with: "")
    }
}
