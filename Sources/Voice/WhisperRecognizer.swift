import CWhisper
import Foundation
import NIOPosix
import Synchronization

/// The built-in recogniser: OpenAI's Whisper (base, multilingual) run in process by whisper.cpp. The model is loaded
/// once; decoding states (whisper.cpp's buffers for one transcription) are lent from a small pool, at most one per
/// pair of cores, each decoding with the cores it was given. The knowledge bank's names reach the decoder as its
/// initial prompt (``prompt``, replaced when the bank changes), so names Whisper never heard come out spelled as the
/// bank spells them.
public final class WhisperRecognizer: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// How decoding is done; the defaults are those measured in docs/voice.md.
    public struct Options: Sendable, Equatable {
        /// ISO 639-1 code of the language spoken (`OMNIFIN_STT_LANGUAGE`), or `auto` to detect it per recording.
        public var language = "en"
        /// Beams of the beam search (`OMNIFIN_STT_BEAM`, 1 = greedy).
        public var beamSize = 5
        /// Decoding states, so recordings transcribed at the same time (`nil`: one per two cores, at least one).
        public var states: Int?
        /// The fewest encoder frames (50 a second) decoded: the audio context is the recording's length plus a second,
        /// at least this, at most Whisper's 30 s window (1500). Whisper was trained on 30 s windows; a much shorter
        /// context is faster and, measured, as accurate down to about this.
        public var minimumAudioContext = 512

        public init() {}
    }

    /// The default model file, where `make model` puts it.
    public static var defaultModelPath: String {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        return home + "/.cache/omnifin/models/whisper-base/ggml-base.bin"
    }

    /// The most tokens of an initial prompt Whisper reads (half its 448-token text context).
    public static let maximumPromptTokens = 224

    private struct Model: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    /// A state lent to one transcription at a time.
    private struct State: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private struct Pool {
        var idle: [State] = []
        var made = 0
        var prompt = ""
    }

    private let model: Model
    private let pool: Mutex<Pool>
    public let modelPath: String
    public let options: Options
    public let maximumStates: Int
    /// Cores each state decodes with.
    public let threads: Int
    public let multilingual: Bool

    /// Loads the model (about 0.3 s for base).
    /// - Throws: ``Failure`` when the file is missing or not a Whisper ggml model.
    public init(modelPath: String = WhisperRecognizer.defaultModelPath, options: Options = Options()) throws {
        var error = [CChar](repeating: 0, count: 512)
        guard let loaded = omnifin_whisper_load(modelPath, &error, error.count) else {
            throw Failure(description: String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        model = Model(pointer: loaded)
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        maximumStates = max(1, options.states ?? cores / 2)
        threads = max(1, cores / maximumStates)
        multilingual = omnifin_whisper_is_multilingual(loaded) != 0
        self.modelPath = modelPath
        self.options = options
        pool = Mutex(Pool())
    }

    deinit {
        pool.withLock { pool in for state in pool.idle { omnifin_whisper_state_free(state.pointer) } }
        omnifin_whisper_model_free(model.pointer)
    }

    /// Whether the model file is there (`make model` fetches it).
    public static func available(at path: String = WhisperRecognizer.defaultModelPath) -> Bool {
        FileManager.default.fileExists(atPath: path)
    }

    /// What the decoder reads before each recording: the knowledge bank's names (``SpeechPrompt``).
    public var prompt: String { pool.withLock { $0.prompt } }

    public func replacePrompt(_ prompt: String) {
        pool.withLock { $0.prompt = prompt }
    }

    /// Tokens `text` makes in the model's vocabulary.
    public func tokenCount(_ text: String) -> Int {
        Int(omnifin_whisper_token_count(model.pointer, text))
    }

    /// The audio context for a recording of `seconds`: its frames and a second more, rounded up to 64, between
    /// ``Options/minimumAudioContext`` and 1500.
    public static func audioContext(seconds: Double, minimum: Int) -> Int {
        let frames = Int((seconds * 50).rounded(.up)) + 50
        let rounded = (frames + 63) / 64 * 64
        return min(1500, max(minimum, rounded))
    }

    /// A 30 ms window sounds like voice when its RMS reaches this level (about -45 dBFS) and its signal crosses zero
    /// in at most ``voicedCrossings`` of its samples: voiced speech is periodic, hiss and white noise cross zero about
    /// every other sample.
    public static let speechLevel: Float = 0.0056
    public static let voicedCrossings: Float = 0.25
    /// Voiced windows a recording needs (150 ms) to be decoded at all: on silence Whisper still writes "You"
    /// (confidence 0.78), on white noise a whole confident sentence ("I'm going to put the oil in the pan.").
    public static let voicedWindowsNeeded = 5

    /// The 30 ms windows of 16 kHz samples that sound like voice.
    static func voicedWindows(_ samples: [Float]) -> Int {
        let window = 480
        var voiced = 0
        var start = 0
        while start + window <= samples.count {
            var energy: Float = 0
            var crossings = 0
            for index in start..<start + window {
                energy += samples[index] * samples[index]
                if index > start, (samples[index] >= 0) != (samples[index - 1] >= 0) { crossings += 1 }
            }
            if (energy / Float(window)).squareRoot() >= speechLevel, Float(crossings) / Float(window) <= voicedCrossings { voiced += 1 }
            start += window
        }
        return voiced
    }

    /// The words heard in audio of any rate (converted to 16 kHz mono float), with the decoder's confidence. A
    /// recording with less than 150 ms that sounds like voice (``voicedWindows(_:)``) is an empty transcript.
    public func transcribe(_ audio: WAVAudio, prompt override: String? = nil) async throws -> Transcript {
        let sixteen = audio.resampled(to: 16_000)
        var padded = sixteen.samples.map { Float($0) / 32768 }
        if Self.voicedWindows(padded) < Self.voicedWindowsNeeded { return Transcript(text: "", confidence: 0) }
        // whisper.cpp declines less than a second of audio: pad short recordings with silence.
        if padded.count < 24_000 { padded += [Float](repeating: 0, count: 24_000 - padded.count) }
        let samples = padded
        let seconds = Double(samples.count) / 16_000
        let state = try await borrow()
        defer { giveBack(state) }
        let prompt = override ?? self.prompt
        let language = options.language
        let beams = options.beamSize
        let threads = threads
        let context = Self.audioContext(seconds: seconds, minimum: options.minimumAudioContext)
        return try await NIOThreadPool.singleton.runIfActive {
            var result = omnifin_whisper_result()
            var error = [CChar](repeating: 0, count: 256)
            let status = language.withCString { languagePointer in
                prompt.withCString { promptPointer in
                    var options = omnifin_whisper_options(
                        language: languagePointer, initial_prompt: prompt.isEmpty ? nil : promptPointer, threads: Int32(threads),
                        beam_size: Int32(beams), audio_context: Int32(context))
                    return samples.withUnsafeBufferPointer { buffer in
                        omnifin_whisper_transcribe(state.pointer, buffer.baseAddress, Int32(buffer.count), &options, &result, &error, error.count)
                    }
                }
            }
            defer { omnifin_whisper_result_free(&result) }
            guard status == 0, let text = result.text else {
                throw Failure(description: String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            let language = withUnsafeBytes(of: result.language) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            // How sure the decoder was of its tokens, times how sure it was that there was speech at all (its
            // no-speech token): a recording of mostly noise around a little voice is not answered as confidently.
            let tokens = result.tokens > 0 ? exp(Double(result.mean_log_probability)) : 0
            return Transcript(
                text: Transcript.cleaned(String(cString: text)),
                confidence: tokens * (1 - Double(result.no_speech_probability)),
                language: language.isEmpty ? nil : language)
        }
    }

    private func borrow() async throws -> State {
        while true {
            enum Next { case ready(State), make, wait }
            let next = pool.withLock { pool -> Next in
                if let state = pool.idle.popLast() { return .ready(state) }
                if pool.made < maximumStates {
                    pool.made += 1
                    return .make
                }
                return .wait
            }
            switch next {
            case .ready(let state): return state
            case .make:
                let model = model
                do {
                    return try await NIOThreadPool.singleton.runIfActive {
                        guard let state = omnifin_whisper_state_new(model.pointer) else {
                            throw Failure(description: "whisper.cpp could not allocate a decoding state")
                        }
                        return State(pointer: state)
                    }
                } catch {
                    pool.withLock { $0.made -= 1 }
                    throw error
                }
            case .wait:
                try await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    private func giveBack(_ state: State) {
        pool.withLock { $0.idle.append(state) }
    }
}

/// What a recogniser heard.
public struct Transcript: Sendable, Equatable {
    public var text: String
    /// From 0 to 1: the geometric mean of the probabilities of the words' tokens as decoded, times the probability
    /// that the recording holds speech (`nil` when the recogniser reports none, as speech APIs do).
    public var confidence: Double?
    /// The language decoded (ISO 639-1), when the recogniser says.
    public var language: String?

    public init(text: String, confidence: Double? = nil, language: String? = nil) {
        self.text = text
        self.confidence = confidence
        self.language = language
    }

    /// Whisper's text without its leading space and the marks it writes for what is not speech (`[BLANK_AUDIO]`,
    /// `(music)`, `*coughs*`).
    public static func cleaned(_ text: String) -> String {
        var kept = ""
        var depth = 0
        for character in text {
            switch character {
            case "[", "(", "*" where depth == 0: depth += 1
            case "]", ")": depth = max(0, depth - 1)
            case "*": depth = 0
            default: if depth == 0 { kept.append(character) }
            }
        }
        return kept.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}
