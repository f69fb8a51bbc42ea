import Foundation
import Logging
public import Retrieval
import Storage
import Synchronization

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
    /// The OpenAI-compatible API and model for answers (`OMNIFIN_LLM_BASE_URL`, `OMNIFIN_CHAT_MODEL`); built-in when nil.
    public var llm: LLMAPIConfiguration?
    public var chatModel: String?
    /// When the LLM API fails before its first token: answer with the built-in answerer instead of 502/504
    /// (`OMNIFIN_LLM_FALLBACK=builtin`).
    public var fallbackToBuiltin = false

    public init() {}

    /// Reads `OMNIFIN_LLM_BASE_URL`, `OMNIFIN_LLM_API_KEY`, `OMNIFIN_CHAT_MODEL`, `OMNIFIN_LLM_TIMEOUT`, `OMNIFIN_LLM_FALLBACK`,
    /// `OMNIFIN_CHAT_RELEVANCE`.
    public static func fromEnvironment(_ environment: [String: String]) throws -> ChatConfiguration {
        var configuration = ChatConfiguration()
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        if let model = value("OMNIFIN_CHAT_MODEL") {
            guard var api = LLMAPIConfiguration.fromEnvironment(environment) else {
                throw ServerConfiguration.Invalid(description: "OMNIFIN_CHAT_MODEL is '\(model)' but OMNIFIN_LLM_BASE_URL is not set")
            }
            if let raw = value("OMNIFIN_LLM_TIMEOUT") {
                guard let seconds = Double(raw), seconds > 0, seconds <= 600 else {
                    throw ServerConfiguration.Invalid(description: "OMNIFIN_LLM_TIMEOUT '\(raw)' must be seconds between 0 and 600")
                }
                api.timeout = seconds
            }
            configuration.llm = api
            configuration.chatModel = model
        }
        if let fallback = value("OMNIFIN_LLM_FALLBACK") {
            guard ["builtin", "error"].contains(fallback) else {
                throw ServerConfiguration.Invalid(description: "OMNIFIN_LLM_FALLBACK must be builtin or error")
            }
            configuration.fallbackToBuiltin = fallback == "builtin"
        }
        if let raw = value("OMNIFIN_CHAT_RELEVANCE") {
            guard let threshold = Double(raw), (-1...1).contains(threshold) else {
                throw ServerConfiguration.Invalid(description: "OMNIFIN_CHAT_RELEVANCE '\(raw)' must be a cosine similarity between -1 and 1")
            }
            configuration.relevanceThreshold = threshold
        }
        return configuration
    }
}

/// A citation as answers and history show it.
struct CitationView: Codable, Sendable, Equatable {
    var n: Int
    var documentId: String
    var title: String
    var snippet: String
    var passage: String
    var start: Int
    var end: Int
    var score: Double
}

/// One question on its way to an answer: what retrieval found and the prompt built from it.
struct PreparedTurn: Sendable {
    var conversation: ConversationRecord
    var isNewConversation: Bool
    var question: String
    var searchQuery: String
    var passages: [NumberedPassage]
    var prompt: String
    /// Whether the best passage is relevant enough to answer from.
    var relevant: Bool
    var retrievalMilliseconds: Double
    var started: ContinuousClock.Instant
    var voice: Bool
}

/// A stored answer.
struct ChatTurnResult: Sendable {
    var conversationID: String
    var messageID: String
    var questionID: String
    var answer: String
    var citations: [CitationView]
    var grounded: Bool
    var generator: String
    var retrievalMilliseconds: Double
    var generationMilliseconds: Double
}

/// Retrieval → prompt assembly → generation → storage, for text and voice turns.
struct ChatPipeline: Sendable {
    let store: any OmnifinStore
    let bank: KnowledgeBank
    let sealer: DataSealer
    let analytics: AnalyticsRecorder
    let configuration: ChatConfiguration
    let builtin: ExtractiveAnswerer
    let llm: OpenAIChatGenerator?
    let logger: Logger

    static let noAnswer =
        "The knowledge bank has no answer to this question. Try other words, or ask a knowledge manager to add the information."

    init(store: any OmnifinStore, bank: KnowledgeBank, sealer: DataSealer, analytics: AnalyticsRecorder, configuration: ChatConfiguration, logger: Logger) {
        self.store = store
        self.bank = bank
        self.sealer = sealer
        self.analytics = analytics
        self.configuration = configuration
        // Passage sentences never change: their vectors are kept (50,000 sentences, about 80 MB at 384 dimensions),
        // so an answer embeds only the question and sentences it has not seen before.
        self.builtin = ExtractiveAnswerer(embedder: CachedEmbedder(bank.embedder, cache: EmbeddingCache(capacity: 50_000)))
        self.llm = configuration.llm.flatMap { api in configuration.chatModel.map { OpenAIChatGenerator(configuration: api, model: $0) } }
        self.logger = logger
    }

    var generator: any AnswerGenerator { llm ?? builtin }

    /// Loads or starts the conversation, rewrites a follow-up, retrieves and assembles the prompt.
    func prepare(question raw: String, conversationID: String?, caller: AuthenticatedUser, voice: Bool = false) async throws -> PreparedTurn {
        let started = ContinuousClock.now
        let question = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !question.isEmpty else { throw APIError.badRequest("message is empty", field: "message") }
        guard question.count <= 4_000 else { throw APIError.badRequest("message is at most 4,000 characters", field: "message") }
        let now = Date()
        var conversation: ConversationRecord
        var isNew = false
        var history: [(role: String, text: String)] = []
        if let conversationID {
            // Another user's conversation is as absent as one that does not exist.
            guard conversationID.count <= 100, let found = try await store.conversation(id: conversationID), found.userID == caller.user.id else {
                throw APIError.notFound("no conversation \(conversationID)")
            }
            conversation = found
            for message in try await store.messages(conversationID: found.id, before: nil, limit: configuration.historyMessages) {
                history.append((message.role, (try? sealer.open(message.contentSealed)) ?? ""))
            }
        } else {
            let title = question.count > 80 ? String(question.prefix(77)) + "…" : question
            // The title is the first question's words: sealed like the messages.
            conversation = ConversationRecord(
                id: UUID().uuidString.lowercased(), userID: caller.user.id, title: Data(try sealer.seal(title)).base64EncodedString(), createdAt: now,
                updatedAt: now)
            isNew = true
        }

        let searchQuery = await standaloneQuery(question, history: history)
        let (passages, relevant, _) = try await retrieve(searchQuery, rights: caller.rights)
        let retrievalMilliseconds = (ContinuousClock.now - started).inSeconds * 1000

        let context = passages.map { "[\($0.number)] \($0.hit.title)\n\($0.hit.passage)" }.joined(separator: "\n\n")
        let historyText = trimmedHistory(history)
        let template = try await activeTemplate("answer")
        let prompt = template.render(["context": context, "question": question, "history": historyText.isEmpty ? "(none)" : historyText])
        return PreparedTurn(
            conversation: conversation, isNewConversation: isNew, question: question, searchQuery: searchQuery, passages: passages, prompt: prompt,
            relevant: relevant, retrievalMilliseconds: retrievalMilliseconds, started: started, voice: voice)
    }

    /// Which generator wrote an answer; known for sure only once the stream has ended (a fallback switches it).
    final class GeneratorUsed: Sendable {
        private let value: Mutex<String>
        init(_ name: String) { value = Mutex(name) }
        var name: String { value.withLock { $0 } }
        func set(_ name: String) { value.withLock { $0 = name } }
    }

    /// Hybrid search under `rights`, keeping passages in rank order while they fit the context budget (the first
    /// always goes in); `relevant` when the best passage's cosine similarity reaches the threshold.
    func retrieve(_ query: String, rights: AccessRights) async throws -> (passages: [NumberedPassage], relevant: Bool, best: Double) {
        let hits = try await bank.search(KnowledgeQuery(query, k: configuration.passages), rights: rights)
        var passages: [NumberedPassage] = []
        var used = 0
        for hit in hits {
            let cost = tokens(hit.title) + tokens(hit.passage) + 4
            if !passages.isEmpty && used + cost > configuration.contextTokens { break }
            passages.append(NumberedPassage(number: passages.count + 1, hit: hit))
            used += cost
        }
        // Without dense scores (an embedding model mismatch) BM25 alone decides: any hit counts.
        let best = hits.compactMap(\.denseScore).max() ?? (hits.isEmpty ? -1 : 1)
        return (passages, !passages.isEmpty && best >= configuration.relevanceThreshold, best)
    }

    /// The tokens of the answer (the fixed no-answer text when the knowledge bank has nothing relevant).
    func generate(_ turn: PreparedTurn) -> (stream: AsyncThrowingStream<String, any Error>, generator: GeneratorUsed) {
        guard turn.relevant else {
            return (AsyncThrowingStream { $0.yield(Self.noAnswer); $0.finish() }, GeneratorUsed("none"))
        }
        let request = GenerationRequest(question: turn.question, passages: turn.passages, prompt: turn.prompt)
        guard let llm else { return (builtin.generate(request), GeneratorUsed(builtin.name)) }
        guard configuration.fallbackToBuiltin else { return (llm.generate(request), GeneratorUsed(llm.name)) }
        let used = GeneratorUsed(llm.name)
        // Fall back to the built-in answerer when the LLM fails before its first token.
        let builtin = builtin
        let logger = logger
        let stream = AsyncThrowingStream<String, any Error> { continuation in
            let task = Task {
                var sent = false
                do {
                    for try await token in llm.generate(request) {
                        sent = true
                        continuation.yield(token)
                    }
                    continuation.finish()
                } catch let error as GenerationError where !sent {
                    logger.warning("the LLM failed, answering with the built-in answerer: \(error)")
                    used.set(builtin.name)
                    do {
                        for try await token in builtin.generate(request) { continuation.yield(token) }
                        continuation.finish()
                    } catch {
                        continuation.finish(throwing: error)
                    }
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
        return (stream, used)
    }

    /// Cleans the citations, stores question and answer (sealed), records the analytics event.
    func finish(_ turn: PreparedTurn, answer raw: String, generator: String, caller: AuthenticatedUser, cancelled: Bool = false) async throws
        -> ChatTurnResult
    {
        let generationMilliseconds = (ContinuousClock.now - turn.started).inSeconds * 1000 - turn.retrievalMilliseconds
        var answer = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        var cited: [Int] = []
        if turn.relevant {
            (answer, cited) = Citations.clean(answer, validNumbers: Set(turn.passages.map(\.number)))
            if answer.isEmpty { answer = Self.noAnswer }
        }
        let grounded = turn.relevant && !cited.isEmpty
        let citations = cited.compactMap { number in turn.passages.first { $0.number == number } }.map { passage in
            CitationView(
                n: passage.number, documentId: passage.hit.documentID, title: passage.hit.title, snippet: Self.snippet(passage.hit.passage),
                passage: passage.hit.passage, start: passage.hit.start, end: passage.hit.end, score: passage.hit.score)
        }
        let now = Date()
        if turn.isNewConversation { try await store.createConversation(turn.conversation) }
        let questionID = UUID().uuidString.lowercased()
        let answerID = UUID().uuidString.lowercased()
        let timings: [String: Double] = [
            "retrieval_ms": turn.retrievalMilliseconds.rounded(), "generation_ms": generationMilliseconds.rounded(), "cancelled": cancelled ? 1 : 0,
        ]
        try await store.appendMessages(
            [
                MessageRecord(id: questionID, conversationID: turn.conversation.id, role: "user", contentSealed: try sealer.seal(turn.question), createdAt: now),
                MessageRecord(
                    id: answerID, conversationID: turn.conversation.id, role: "assistant", contentSealed: try sealer.seal(answer),
                    citations: JSONText.encode(citations), timings: JSONText.encode(timings), generator: generator, answered: grounded,
                    createdAt: now.addingTimeInterval(0.001)),
            ], conversationID: turn.conversation.id, at: now)
        struct Event: Encodable, Sendable {
            var latencyMs: Double
            var retrievalMs: Double
            var answered: Bool
            var questionSealed: String?
            var questionKey: String
            var voice: Bool
            var generator: String
        }
        let copy = sealer.analyticsCopy(turn.question)
        await analytics.record(
            "chat.message", user: caller.user.id,
            data: Event(
                latencyMs: (ContinuousClock.now - turn.started).inSeconds * 1000, retrievalMs: turn.retrievalMilliseconds, answered: grounded,
                questionSealed: copy.sealed, questionKey: copy.key, voice: turn.voice,
                generator: generator))
        return ChatTurnResult(
            conversationID: turn.conversation.id, messageID: answerID, questionID: questionID, answer: answer, citations: citations, grounded: grounded,
            generator: generator, retrievalMilliseconds: turn.retrievalMilliseconds, generationMilliseconds: generationMilliseconds)
    }

    /// A follow-up ("and for Germany?", "who approves it?") becomes a query that carries the previous question's terms.
    func standaloneQuery(_ question: String, history: [(role: String, text: String)]) async -> String {
        guard let previous = history.last(where: { $0.role == "user" })?.text, FollowUp.looksLikeFollowUp(question) else { return question }
        if let llm, let template = try? await activeTemplate("rewrite") {
            let transcript = history.suffix(4).map { ($0.role == "user" ? "User: " : "Assistant: ") + $0.text.prefix(500) }.joined(separator: "\n")
            if let rewritten = try? await llm.completion(template.render(["history": transcript, "question": question])),
                case let line = rewritten.trimmingCharacters(in: .whitespacesAndNewlines), !line.isEmpty, line.count <= 500
            {
                return line
            }
        }
        return FollowUp.carryTerms(from: previous, into: question)
    }

    private func activeTemplate(_ name: String) async throws -> PromptTemplate {
        if let record = try await store.activePrompt(name: name), let template = try? PromptTemplate(name: name, text: record.template) {
            return template
        }
        return try PromptTemplate(name: name, text: PromptTemplate.kinds[name]!.defaultTemplate)
    }

    private func trimmedHistory(_ history: [(role: String, text: String)]) -> String {
        var lines: [String] = []
        var used = 0
        for entry in history.reversed() {
            let line = (entry.role == "user" ? "User: " : "Assistant: ") + entry.text
            let cost = tokens(line)
            if used + cost > configuration.historyTokens { break }
            lines.insert(line, at: 0)
            used += cost
        }
        return lines.joined(separator: "\n")
    }

    /// Tokens as the built-in model counts them, or about four characters per token for API models.
    func tokens(_ text: String) -> Int {
        if let builtin = bank.embedder as? BuiltinEmbedder { return builtin.tokenizer.pieceCount(text) }
        if let cached = bank.embedder as? CachedEmbedder, let builtin = cached.base as? BuiltinEmbedder { return builtin.tokenizer.pieceCount(text) }
        return text.utf8.count / 4 + 1
    }

    static func snippet(_ passage: String) -> String {
        let flat = passage.split(whereSeparator: \.isNewline).joined(separator: " ")
        return flat.count > 240 ? String(flat.prefix(237)) + "…" : flat
    }
}

/// The built-in follow-up rule.
enum FollowUp {
    static let referring: Set<String> = [
        "it", "its", "it's", "that", "this", "those", "these", "they", "them", "their", "there", "he", "she", "him", "her", "one", "ones", "same",
        "also", "too", "else", "instead",
    ]
    static let openers = ["and ", "what about", "how about", "and what", "but ", "or ", "then "]

    static func looksLikeFollowUp(_ question: String) -> Bool {
        let lower = question.lowercased()
        if openers.contains(where: { lower.hasPrefix($0) }) { return true }
        let words = lower.split { !$0.isLetter && $0 != "'" }.map(String.init)
        return words.count <= 12 && words.contains(where: referring.contains)
    }

    /// Words that make a question without saying what it is about.
    static let questionWords: Set<String> = [
        "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "do", "does", "did", "can", "could", "should", "would", "may",
        "must", "is", "are", "am", "was", "were", "i", "me", "my", "we", "our", "you", "your", "much", "many",
    ]

    /// The question followed by the previous question's content words it lacks.
    static func carryTerms(from previous: String, into question: String) -> String {
        let analyzer = EnglishAnalyzer(stopWords: EnglishAnalyzer.defaultStopWords.union(questionWords))
        let present = Set(analyzer.terms(question))
        var carried: [String] = []
        for word in previous.split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "-" }).map(String.init) {
            let terms = analyzer.terms(word)
            guard let term = terms.first, !present.contains(term), !carried.contains(word) else { continue }
            carried.append(word)
        }
        return carried.isEmpty ? question : question + " " + carried.joined(separator: " ")
    }
}

/// Values stored as JSON text (audit details, analytics data, citations): snake_case keys, sorted, times with
/// milliseconds.
enum JSONText {
    static func encode(_ value: some Encodable, otherwise fallback: String = "null") -> String {
        // The same encoder as responses.
        (try? AppRequestContext.makeResponseEncoder().encode(value)).flatMap { String(data: $0, encoding: .utf8) } ?? fallback
    }
}
