public import Foundation

/// Every setting Omnifin takes from its environment (`OMNIFIN_*`, and `HOME` for the cache folder), read and
/// checked here and nowhere else. Each part of the program gets the typed values it needs passed down
/// (`ServerConfiguration`, `ChatConfiguration`, `SpeechConfiguration`, the embedder, the store's address); a
/// variable that is set but wrong stops the start with a message naming it.
public struct Settings: Sendable, Equatable {
    /// A variable that is set but cannot be used; the message names it and says what it may be.
    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// An OpenAI-compatible API: `OMNIFIN_LLM_BASE_URL`, `OMNIFIN_LLM_API_KEY`, `OMNIFIN_LLM_TIMEOUT`.
    public struct API: Sendable, Equatable {
        public var baseURL: String
        public var apiKey: String?
        /// Seconds; `nil`: the client's default.
        public var timeout: Double?

        public init(baseURL: String, apiKey: String? = nil, timeout: Double? = nil) {
            self.baseURL = baseURL
            self.apiKey = apiKey
            self.timeout = timeout
        }
    }

    /// A speech tool: `builtin`, `api` (with its model) or `none`.
    public enum SpeechEngine: Sendable, Equatable {
        case builtin
        case api(API, model: String)
        case off
    }

    // Storage.
    /// `OMNIFIN_DATABASE_URL`: `postgres://…` or `sqlite:PATH` (`nil`: the default `sqlite:var/omnifin.db`).
    public var databaseURL: String?
    /// `OMNIFIN_INDEX_SNAPSHOT`.
    public var snapshotPath: String?

    // Embeddings.
    /// `OMNIFIN_EMBEDDING_MODEL`: `builtin` (default) or a model of the API.
    public var embeddingModel = "builtin"
    /// `OMNIFIN_MODEL_DIR`: the built-in model's files (`nil`: `~/.cache/omnifin/models/all-MiniLM-L6-v2`).
    public var modelDirectory: String?
    /// `$HOME/.cache/omnifin`: where vectors of evaluations are cached (`nil` without `HOME`).
    public var cacheDirectory: String?
    /// The OpenAI-compatible API (`OMNIFIN_LLM_BASE_URL`); `nil` when not set.
    public var llm: API?
    /// `OMNIFIN_LLM_TIMEOUT` in seconds, for the API or the local engine.
    public var llmTimeout: Double?

    // Chat.
    /// `OMNIFIN_CHAT_MODEL`: answers by this model of the API (needs `OMNIFIN_LLM_BASE_URL`).
    public var chatModel: String?
    /// `OMNIFIN_LLM_FALLBACK=builtin`: the built-in answerer when the LLM fails before its first token.
    public var llmFallbackToBuiltin = false
    /// `OMNIFIN_CHAT_RELEVANCE`: the cosine below which the bank has no answer.
    public var chatRelevance: Double?
    /// A GGUF model Omnifin answers with through its own llama.cpp engine (`OMNIFIN_LLM_MODEL`; exclusive with
    /// `OMNIFIN_LLM_BASE_URL`).
    public var localModel: LocalModel?

    /// The local engine: `OMNIFIN_LLM_MODEL`, `OMNIFIN_LLAMA_SERVER`, `OMNIFIN_LLM_THREADS`, `OMNIFIN_LLM_CONTEXT`,
    /// `OMNIFIN_LLM_QUEUE`.
    public struct LocalModel: Sendable, Equatable {
        /// The GGUF file.
        public var path: String
        /// The `llama-server` program (`nil`: the one `make llm` builds under the cache folder).
        public var server: String?
        /// Threads of the engine (`nil`: one per core, at most 8).
        public var threads: Int?
        /// Context window in tokens (`nil`: 4,096, or the model's own when smaller).
        public var contextTokens: Int?
        /// Turns that may wait for the engine beside the one it runs (`nil`: 8).
        public var queue: Int?

        public init(path: String, server: String? = nil, threads: Int? = nil, contextTokens: Int? = nil, queue: Int? = nil) {
            self.path = path
            self.server = server
            self.threads = threads
            self.contextTokens = contextTokens
            self.queue = queue
        }
    }

    // Voice.
    public var stt: SpeechEngine = .builtin
    public var tts: SpeechEngine = .builtin
    /// `OMNIFIN_TTS_VOICE` (default `alloy`).
    public var ttsVoice = "alloy"
    /// `OMNIFIN_WHISPER_MODEL`: the built-in recogniser's ggml model file (`nil`: `~/.cache/omnifin/models/whisper-base/ggml-base.bin`).
    public var whisperModel: String?
    /// `OMNIFIN_STT_LANGUAGE`: the language spoken, an ISO 639-1 code or `auto` (`nil`: English).
    public var sttLanguage: String?
    /// `OMNIFIN_STT_BEAM`: beams of the built-in recogniser's search, 1–8 (`nil`: 5).
    public var sttBeam: Int?
    /// `OMNIFIN_STT_CONFIRM_BELOW`: the recogniser's confidence, from 0 to 1, below which a voice question is shown
    /// to the user to confirm instead of being answered (`nil`: the calibrated default).
    public var sttConfirmBelow: Double?

    // The server.
    public var host: String?
    public var port: Int?
    /// `OMNIFIN_PUBLIC_URL`: what links in e-mails start with.
    public var publicURL: String?
    /// `OMNIFIN_MAIL`: `file:DIR` or an `smtp://` / `smtps://` URL (checked by the mail transport).
    public var mail: String?
    public var rateLimitPerMinute: Int?
    public var loginAttemptsPerMinute: Int?
    public var hnswEfSearch: Int?
    public var dataKey: String?
    public var dataKeyFile: String?
    public var tlsCertificate: String?
    public var tlsKey: String?
    public var importDirectory: String?
    public var webDirectory: String?
    /// `OMNIFIN_SNAPSHOT_INTERVAL`: `.some(nil)` for 0 (only at shutdown); `nil` when not set.
    public var snapshotInterval: Duration??
    public var followInterval: Duration?
    /// `OMNIFIN_REDIS_URL` (checked by the Redis client).
    public var redisURL: String?
    /// `OMNIFIN_SIGNUP` (checked by the sign-up policy).
    public var signup: String?
    public var trustedProxies: [IPNetwork] = []
    public var metricsToken: String?
    public var maximumDocumentBytes: Int?
    public var inlineDocumentBytes: Int?
    /// `OMNIFIN_DEMO_DIR`: the demo knowledge `--demo` loads (default `corpora`).
    public var demoDirectory: String?

    // Logging.
    /// `OMNIFIN_LOG_FORMAT=json`.
    public var jsonLogs = false
    public var logFile: String?
    public var logMaximumBytes = 10 << 20

    // Tools.
    /// `OMNIFIN_FUZZ_TARGET`: which fuzz target `omnifin-fuzz` runs under libFuzzer.
    public var fuzzTarget: String?
    /// The environment as it was, for child processes (`pg_dump` gets it with its password added).
    public var inherited: [String: String] = [:]

    public init() {}

    /// This process's environment: the one place that reads it.
    public static var processEnvironment: [String: String] { ProcessInfo.processInfo.environment }
}
