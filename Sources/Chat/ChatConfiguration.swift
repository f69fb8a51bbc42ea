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

    public init() {}

    /// The chat settings (`OMNIFIN_LLM_BASE_URL` with `OMNIFIN_CHAT_MODEL`, `OMNIFIN_LLM_FALLBACK`,
    /// `OMNIFIN_CHAT_RELEVANCE`).
    public init(_ settings: Settings) {
        if let model = settings.chatModel, let api = settings.llm {
            llm = LLMAPIConfiguration(api)
            chatModel = model
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
