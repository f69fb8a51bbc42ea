import Foundation
public import Retrieval
public import Settings

/// Which speech tools voice chat uses: the built-in ones (Whisper through whisper.cpp, eSpeak NG) or an
/// OpenAI-compatible API (`POST /v1/audio/transcriptions`, `POST /v1/audio/speech`).
public struct SpeechConfiguration: Sendable {
    public enum Engine: Sendable, Equatable {
        case builtin
        case api(LLMAPIConfiguration, model: String)
        /// Switched off (`none`): voice chat answers 503 and the status says so.
        case off
    }

    public var stt: Engine = .builtin
    public var tts: Engine = .builtin
    /// The API's voice for `tts` (`OMNIFIN_TTS_VOICE`, default `alloy`).
    public var ttsVoice = "alloy"
    /// The built-in recogniser's model file (`OMNIFIN_WHISPER_MODEL`).
    public var whisperModel = WhisperRecognizer.defaultModelPath
    /// How the built-in recogniser decodes (`OMNIFIN_STT_LANGUAGE`, `OMNIFIN_STT_BEAM`).
    public var whisper = WhisperRecognizer.Options()
    /// The confidence below which a voice question is shown back for the user to confirm (`OMNIFIN_STT_CONFIRM_BELOW`);
    /// 0 answers every transcript. Transcripts without a confidence (speech APIs) are always answered.
    public var confirmBelow = SpeechConfiguration.defaultConfirmBelow
    /// Calibrated on the development half of `Benchmarks/voice/spoken.txt` (docs/voice.md).
    public static let defaultConfirmBelow = 0.55

    public init() {}

    /// The speech tools of the settings (`OMNIFIN_STT`, `OMNIFIN_TTS`: `builtin`, `api` or `none`; their models, the
    /// voice, the recogniser's language, beams and confirmation threshold).
    public init(_ settings: Settings) {
        func engine(_ engine: Settings.SpeechEngine) -> Engine {
            switch engine {
            case .builtin: .builtin
            case .off: .off
            case .api(let api, let model): .api(LLMAPIConfiguration(api), model: model)
            }
        }
        stt = engine(settings.stt)
        tts = engine(settings.tts)
        ttsVoice = settings.ttsVoice
        if let model = settings.whisperModel { whisperModel = model }
        if let language = settings.sttLanguage { whisper.language = language }
        if let beams = settings.sttBeam { whisper.beamSize = beams }
        if let threshold = settings.sttConfirmBelow { confirmBelow = threshold }
    }

    /// The speech tools these variables configure.
    /// - Throws: ``Settings/Invalid`` naming a wrong variable.
    public static func fromEnvironment(_ environment: [String: String]) throws -> SpeechConfiguration {
        SpeechConfiguration(try Settings.read(environment))
    }
}
