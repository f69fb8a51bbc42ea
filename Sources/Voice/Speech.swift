import CVoice
import Foundation
import Logging
import NIOPosix
import Synchronization

/// The built-in recogniser: PocketSphinx with the stock US English acoustic model and a language model built from
/// the knowledge bank. Decoders are not thread-safe, so a small pool lends one per request; a new language model
/// replaces the pool's decoders as they come back.
public final class SpeechRecognizer: Sendable {
    /// A decoder owned by one request at a time (the pool hands it out exclusively), so it may cross threads.
    public struct Decoder: @unchecked Sendable {
        public let pointer: OpaquePointer
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static let modelDirectory = "/usr/share/pocketsphinx/model/en-us"
    /// How much the language model counts against the acoustic model (PocketSphinx's -lw). Calibrated with
    /// `omnifin bench voice` (208 utterances, docs/voice.md): 6.5 is best with the knowledge bank's model.
    public static let languageWeight = "6.5"
    public var acousticModel: String { Self.modelDirectory + "/en-us" }
    /// The stock pronunciation dictionary (CMUdict), which the knowledge bank's dictionary extends.
    public static let stockDictionary = SpeechRecognizer.modelDirectory + "/cmudict-en-us.dict"

    private struct State {
        var languageModel: String
        var dictionary: String
        var version = 0
        var idle: [(decoder: Decoder, version: Int)] = []
        var lent = 0
    }

    private let state: Mutex<State>
    public let maximumDecoders: Int
    public let languageWeight: String
    /// Further PocketSphinx options as name/value pairs (`OMNIFIN_STT_OPTIONS="-beam 1e-60 -wip 0.5"`), for tuning;
    /// they replace ``defaultOptions``.
    public let options: [String]
    /// Calibrated with `omnifin bench voice` on the knowledge bank's model and dictionary (docs/voice.md): 32 of the
    /// acoustic model's Gaussians per frame instead of 4 (`-topn 32`); no cap on active HMMs per frame
    /// (`-maxhmmpf -1`); and the language weights of the two later passes, whose choice is the transcript:
    /// `-bestpathlw 12` (PocketSphinx's 9.5 was tuned for its general model, not for a narrow one) and `-fwdflatlw 7`.
    public static let defaultOptions = ["-topn", "32", "-maxhmmpf", "-1", "-bestpathlw", "12", "-fwdflatlw", "7"]
    public static let stockLanguageModel = SpeechRecognizer.modelDirectory + "/en-us.lm.bin"

    /// - Parameters:
    ///   - languageModel: an ARPA or binary model; the stock `en-us.lm.bin` until the bank's is built.
    ///   - dictionary: the pronunciations of the model's words; the stock CMUdict by default.
    ///   - languageWeight: PocketSphinx's -lw (``SpeechConfiguration/languageWeight``), else ``languageWeight``.
    ///   - options: further decoder options (``SpeechConfiguration/decoderOptions``), else ``defaultOptions``.
    public init(
        languageModel: String = SpeechRecognizer.stockLanguageModel, dictionary: String = SpeechRecognizer.stockDictionary, maximumDecoders: Int = 2,
        languageWeight: String? = nil, options: [String]? = nil
    ) {
        state = Mutex(State(languageModel: languageModel, dictionary: dictionary))
        self.maximumDecoders = maximumDecoders
        self.languageWeight = languageWeight ?? Self.languageWeight
        self.options = options ?? Self.defaultOptions
    }

    deinit {
        state.withLock { state in for entry in state.idle { omnifin_stt_free(entry.decoder.pointer) } }
    }

    public static var available: Bool { FileManager.default.fileExists(atPath: modelDirectory + "/en-us/mdef") }

    public var languageModel: String { state.withLock { $0.languageModel } }
    /// The dictionary that goes with ``languageModel``.
    public var dictionary: String { state.withLock { $0.dictionary } }
    /// The language model and its dictionary, read together.
    public var models: (languageModel: String, dictionary: String) { state.withLock { ($0.languageModel, $0.dictionary) } }

    /// Uses the model at `path`, with the pronunciations in `dictionary`, for every decoder made from now on.
    public func replaceLanguageModel(_ path: String, dictionary: String = SpeechRecognizer.stockDictionary) {
        let stale = state.withLock { state -> [Decoder] in
            state.languageModel = path
            state.dictionary = dictionary
            state.version += 1
            defer { state.idle = [] }
            return state.idle.map(\.decoder)
        }
        for decoder in stale { omnifin_stt_free(decoder.pointer) }
    }

    /// The words heard in 16 kHz mono audio.
    public func transcribe(_ samples: [Int16]) async throws -> String {
        let (decoder, version) = try await borrow()
        var text: String
        do {
            text = try await NIOThreadPool.singleton.runIfActive {
                var buffer = [CChar](repeating: 0, count: 4096)
                var score: Int32 = 0
                let status = samples.withUnsafeBufferPointer { pointer in
                    omnifin_stt_decode(decoder.pointer, pointer.baseAddress, pointer.count, &buffer, buffer.count, &score)
                }
                guard status == 0 else { throw Failure(description: "PocketSphinx could not decode the audio") }
                return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        } catch {
            giveBack(decoder, version: version)
            throw error
        }
        giveBack(decoder, version: version)
        text = text.replacingOccurrences(of: "<sil>", with: "").split(separator: " ").joined(separator: " ")
        return text
    }

    private func borrow() async throws -> (Decoder, Int) {
        while true {
            enum Next { case ready(Decoder, Int), make(String, String, Int), wait }
            let next = state.withLock { state -> Next in
                if let entry = state.idle.popLast() {
                    state.lent += 1
                    return .ready(entry.decoder, entry.version)
                }
                if state.lent < maximumDecoders {
                    state.lent += 1
                    return .make(state.languageModel, state.dictionary, state.version)
                }
                return .wait
            }
            switch next {
            case .ready(let decoder, let version): return (decoder, version)
            case .make(let model, let dict, let version):
                let hmm = acousticModel
                let options = ["-lw", languageWeight] + self.options
                do {
                    let decoder = try await NIOThreadPool.singleton.runIfActive { () throws -> Decoder in
                        var error = [CChar](repeating: 0, count: 512)
                        let made = withCStrings(options) { pointers in
                            omnifin_stt_create(hmm, model, dict, pointers.baseAddress, Int32(pointers.count), &error, error.count)
                        }
                        guard let decoder = made else {
                            throw Failure(description: String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
                        }
                        return Decoder(pointer: decoder)
                    }
                    return (decoder, version)
                } catch {
                    state.withLock { $0.lent -= 1 }
                    throw error
                }
            case .wait:
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    private func giveBack(_ decoder: Decoder, version: Int) {
        let stale = state.withLock { state -> Bool in
            state.lent -= 1
            guard version == state.version else { return true }
            state.idle.append((decoder, version))
            return false
        }
        if stale { omnifin_stt_free(decoder.pointer) }
    }
}

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

    /// eSpeak NG's phonemes for each of `texts` in its ASCII notation, phonemes joined by `_` (as
    /// `espeak-ng -x --sep=_`), or nil where eSpeak NG gave none. Waits for a synthesis in progress.
    /// - Throws: ``Failure`` when eSpeak NG does not start or does not know the voice.
    public static func phonemes(_ texts: [String], voice: String = "en-us") throws -> [String?] {
        try lock.withLock { sampleRate in
            if sampleRate == nil {
                let rate = omnifin_tts_init(nil)
                guard rate > 0 else { throw Failure(description: "eSpeak NG did not start (is espeak-ng-data installed?)") }
                sampleRate = Int(rate)
            }
            var buffer = [CChar](repeating: 0, count: 4096)
            return try texts.map { text in
                let length = omnifin_tts_phonemes(text, voice, &buffer, buffer.count)
                guard length >= 0 else { throw Failure(description: "eSpeak NG does not know the voice \(voice)") }
                return length == 0 ? nil : String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }
    }

    /// ``phonemes(_:voice:)`` in US English for pronouncing new words, nil without eSpeak NG's data (words no rule
    /// pronounces then stay out of the language model).
    public static var phonemizer: PronunciationDictionary.Phonemizer? {
        guard available else { return nil }
        return { texts in (try? phonemes(texts)) ?? texts.map { _ in nil } }
    }

    /// The text without `[n]` markers and Markdown marks.
    public static func speakable(_ text: String) -> String {
        text.replacing(/\s*\[\d+(?:,\s*\d+)*\]/, with: "").replacingOccurrences(of: "**", with: "").replacingOccurrences(of: "#", with: "")
    }
}

/// `body` with C strings for `strings`, valid for the duration of the call.
private func withCStrings<Result>(_ strings: [String], _ body: (UnsafeBufferPointer<UnsafePointer<CChar>?>) -> Result) -> Result {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    return copies.map { UnsafePointer($0) }.withUnsafeBufferPointer(body)
}
