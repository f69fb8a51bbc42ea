public import Retrieval
public import Settings

/// How chat answers are made: retrieval depth, budgets, the relevance threshold and the generator.
public struct ChatConfiguration: Sendable {
    /// Passages retrieved for a question (before the context budget trims them).
    public var passages = 6
    /// Tokens of passages the prompt may carry.
    public var contextTokens = 2_400
    /// Tokens of conversation history the prompt may carry.
    public var historyTokens = 600
    /// Earlier messages considered for history and follow-up rewriting.
    public var historyMessages = 6
    /// Below this cosine similarity between the question and the best passage, the knowledge bank has no answer.
    /// Calibrated on the demo questions against off-topic questions (Benchmarks/README.md, "Answers").
    public var relevanceThreshold = 0.35
    /// Or: a retrieved passage holds at least this share (by idf) of the question's telling words.
    public var lexicalRelevance = 0.5
    /// The OpenAI-compatible API and model for answers (`OMNIFIN_LLM_BASE_URL`, `OMNIFIN_CHAT_MODEL`); built-in when nil.
    public var llm: LLMAPIConfiguration?
    public var chatModel: String?
    /// When the LLM API fails before its first token: answer with the built-in answerer instead of 502/504
    /// (`OMNIFIN_LLM_FALLBACK=builtin`).
    public var fallbackToBuiltin = false
    /// The llama.cpp engine Omnifin runs itself (`OMNIFIN_LLM_MODEL`); exclusive with ``llm``.
    public var localEngine: LlamaEngine.Configuration?
    /// Turns that may wait for the local engine beside the one it answers (`OMNIFIN_LLM_QUEUE`); the next gets 503
    /// with `Retry-After`, or the built-in answerer with ``fallbackToBuiltin``.
    public var engineQueue = 8
    /// Tokens the answer may take (the prompt gets the rest of the model's context window).
    public var answerTokens = 700

    public init() {}

    /// The chat settings (`OMNIFIN_LLM_BASE_URL` with `OMNIFIN_CHAT_MODEL`, or `OMNIFIN_LLM_MODEL` and the local
    /// engine's settings; `OMNIFIN_LLM_FALLBACK`, `OMNIFIN_CHAT_RELEVANCE`).
    public init(_ settings: Settings) {
        if let model = settings.chatModel, let api = settings.llm {
            llm = LLMAPIConfiguration(api)
            chatModel = model
        }
        if let local = settings.localModel {
            var engine = LlamaEngine.Configuration(
                model: local.path, server: local.server ?? LlamaEngine.Configuration.defaultServer(cacheDirectory: settings.cacheDirectory))
            if let threads = local.threads { engine.threads = threads }
            if let context = local.contextTokens { engine.contextTokens = context }
            localEngine = engine
            if let queue = local.queue { engineQueue = queue }
            // A local model reads a long prompt at some hundred tokens a second on a CPU: the first token may take
            // longer than an API's.
            var api = LLMAPIConfiguration(baseURL: "http://127.0.0.1")
            api.timeout = settings.llmTimeout ?? 120
            api.maxRetries = 1
            llm = api
            chatModel = engine.modelName
        }
        fallbackToBuiltin = settings.llmFallbackToBuiltin
        if let relevance = settings.chatRelevance { relevanceThreshold = relevance }
    }

    /// The chat settings of these variables.
    /// - Throws: ``Settings/Invalid`` naming a wrong variable.
    public static func fromEnvironment(_ environment: [String: String]) throws -> ChatConfiguration {
        ChatConfiguration(try Settings.read(environment))
    }
}
