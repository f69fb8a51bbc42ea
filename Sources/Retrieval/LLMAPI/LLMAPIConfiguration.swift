public import Settings

/// Settings of an OpenAI-compatible API (OpenAI, vLLM, llama.cpp server, Ollama, …), from the environment.
public struct LLMAPIConfiguration: Sendable, Equatable {
    /// `OMNIFIN_LLM_BASE_URL`, e.g. `https://api.openai.com` or `http://127.0.0.1:11434` (a trailing `/v1` is fine).
    public var baseURL: String
    /// `OMNIFIN_LLM_API_KEY`, sent as a bearer token when set.
    public var apiKey: String?
    /// Seconds before one request is abandoned (and retried).
    public var timeout: Double = 30
    /// Attempts after the first one for 429, 5xx, timeouts and connection failures.
    public var maxRetries = 4
    /// First backoff in seconds; doubled each attempt, with jitter, capped at ``maxBackoff``.
    public var initialBackoff: Double = 0.5
    public var maxBackoff: Double = 20

    public init(baseURL: String, apiKey: String? = nil) {
        self.baseURL = baseURL
        self.apiKey = apiKey
    }

    /// The API of the settings (`OMNIFIN_LLM_BASE_URL`, `OMNIFIN_LLM_API_KEY`, `OMNIFIN_LLM_TIMEOUT`).
    public init(_ api: Settings.API) {
        self.init(baseURL: api.baseURL, apiKey: api.apiKey)
        if let timeout = api.timeout { self.timeout = timeout }
    }

    /// The configured API of these variables, or `nil` when no base URL is set (or the variables are wrong).
    public static func fromEnvironment(_ environment: [String: String]) -> LLMAPIConfiguration? {
        (try? Settings.read(environment))?.llm.map(LLMAPIConfiguration.init)
    }

    /// `{base}/v1/{path}`, whether or not the base already ends in `/v1`.
    public func url(_ path: String) -> String {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        if !base.hasSuffix("/v1") { base += "/v1" }
        return base + "/" + path
    }
}
