import Foundation
public import Retrieval
public import Settings

/// Which speech tools voice chat uses: the built-in ones (PocketSphinx, eSpeak NG) or an OpenAI-compatible API
/// (`POST /v1/audio/transcriptions`, `POST /v1/audio/speech`).
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
    /// The stock en-us language model's share of the model the built-in recogniser builds from the knowledge bank
    /// (`OMNIFIN_STT_STOCK_WEIGHT`, from 0 to below 1; see ``LanguageModelBuilder``).
    public var stockWeight = LanguageModelBuilder.stockWeight
    /// The most words of that model (`OMNIFIN_STT_MAX_WORDS`, 100–1,000,000; see ``LanguageModelBuilder/maximumWords``).
    public var maximumWords = LanguageModelBuilder.maximumWords
    /// What ``maximumWords`` may be.
    public static let maximumWordsRange = 100...1_000_000

    /// Whether a share of the stock model is one ``stockWeight`` may be: from 0 to below 1.
    public static func isStockWeight(_ share: Double) -> Bool { share >= 0 && share < 1 }

    public init() {}

    /// The built-in recogniser's PocketSphinx -lw (`OMNIFIN_STT_LANGUAGE_WEIGHT`) and further decoder options
    /// (`OMNIFIN_STT_OPTIONS`); `nil`: its tuned defaults.
    public var languageWeight: String?
    public var decoderOptions: [String]?

    /// The speech tools of the settings (`OMNIFIN_STT`, `OMNIFIN_TTS`: `builtin`, `api` or `none`; their models, the
    /// voice, the language model's stock share and vocabulary cap, the decoder settings).
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
        if let weight = settings.sttStockWeight { stockWeight = weight }
        if let words = settings.sttMaximumWords { maximumWords = words }
        languageWeight = settings.sttLanguageWeight
        decoderOptions = settings.sttOptions
    }

    /// The speech tools these variables configure.
    /// - Throws: ``Settings/Invalid`` naming a wrong variable.
    public static func fromEnvironment(_ environment: [String: String]) throws -> SpeechConfiguration {
        SpeechConfiguration(try Settings.read(environment))
    }
}
