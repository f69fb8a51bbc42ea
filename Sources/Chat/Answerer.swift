import Foundation
public import Logging
public import Retrieval
public import Storage
import Synchronization

/// One question to one checked answer: retrieval under the asker's rights, the prompt from the active template,
/// generation (the built-in answerer or a language model, with the fallback), and the citation check. Every front
/// end (JSON, Server-Sent Events, voice, `omnifin eval --answers`) runs a turn through ``respond(_:onToken:)``,
/// the one loop that drains the generator, maps its failures and cleans the answer.
public struct Answerer: Sendable {
    /// One exchange of the conversation so far, oldest first.
    public struct HistoryEntry: Sendable, Equatable {
        public enum Role: String, Sendable { case user, assistant }
        public var role: Role
        public var text: String

        public init(role: Role, text: String) {
            self.role = role
            self.text = text
        }
    }

    /// A question on its way to an answer: what retrieval found and the prompt built from it.
    public struct Prepared: Sendable {
        public var question: String
        /// The query retrieval ran (a follow-up carries the previous question's terms).
        public var searchQuery: String
        public var passages: [NumberedPassage]
        public var prompt: String
        /// Whether the best passage is relevant enough to answer from.
        public var relevant: Bool
        /// The best passage's cosine similarity (what ``ChatConfiguration/relevanceThreshold`` is compared with).
        public var bestScore: Double
        public var retrievalMilliseconds: Double
        var started: ContinuousClock.Instant
        /// Whose turn it is: the built-in answerer reads the retrieved documents under the same rights.
        var rights: AccessRights
    }

    /// A checked answer.
    public struct Answer: Sendable {
        /// The text with only the citation markers that point at a passage of the prompt.
        public var text: String
        public var citations: [StoredCitation]
        /// Relevant passages were found and the answer cites at least one.
        public var grounded: Bool
        /// `builtin`, `llm:MODEL` or `none` (nothing relevant: the fixed no-answer text).
        public var generator: String
        public var retrievalMilliseconds: Double
        public var generationMilliseconds: Double
        /// The asker went away before the end: the text is what was generated until then.
        public var cancelled: Bool
        /// What the claim check did to a language model's answer (`nil` for the built-in answerer, which only
        /// quotes the passages).
        public var claims: ClaimCheck.Result? = nil
    }

    public let bank: KnowledgeBank
    public let configuration: ChatConfiguration
    let prompts: (any PromptStore)?
    let builtin: ExtractiveAnswerer
    let llm: OpenAIChatGenerator?
    /// The llama.cpp engine Omnifin runs (`OMNIFIN_LLM_MODEL`); whoever owns the answerer runs it (``LlamaEngine/run()``).
    public let engine: LlamaEngine?
    /// Turns waiting for the local engine.
    let queue: EngineQueue?
    let claimCheck: ClaimCheck
    let logger: Logger

    /// What the answer says when the knowledge bank has nothing relevant.
    public static let noAnswer =
        "The knowledge bank has no answer to this question. Try other words, or ask a knowledge manager to add the information."
    /// What the answer says when no cited sentence of a language model's answer held up against its passages.
    public static let unsupported =
        "The generated answer did not hold up against the knowledge bank's passages, so it is not shown. Ask again in other words, or search the knowledge bank."
    /// What the answer says when a language model cited none of the passages.
    public static let uncited =
        "The generated answer cited none of the knowledge bank's passages, so it is not shown. Ask again in other words, or search the knowledge bank."
    /// The longest question, in characters.
    public static let maximumQuestion = 4_000

    /// - Parameter prompts: the active `answer` and `rewrite` templates (the defaults when none is stored, or without
    ///   a store).
    public init(bank: KnowledgeBank, prompts: (any PromptStore)?, configuration: ChatConfiguration, logger: Logger) {
        self.bank = bank
        self.prompts = prompts
        self.configuration = configuration
        // Passage sentences never change: their vectors are kept (50,000 sentences, about 80 MB at 384 dimensions),
        // so an answer embeds only the question and sentences it has not seen before.
        builtin = ExtractiveAnswerer(embedder: CachedEmbedder(bank.embedder, cache: EmbeddingCache(capacity: 50_000)), bank: bank)
        let engine = configuration.localEngine.map { LlamaEngine($0, logger: logger) }
        self.engine = engine
        queue = engine.map { _ in EngineQueue(slots: 1, limit: configuration.engineQueue) }
        llm = configuration.llm.flatMap { api in
            configuration.chatModel.map { model in
                var generator = OpenAIChatGenerator(configuration: api, model: model, engine: engine)
                generator.maxTokens = configuration.answerTokens
                return generator
            }
        }
        claimCheck = ClaimCheck(embedder: builtin.embedder)
        self.logger = logger
    }

    /// Embeds the knowledge bank's sentences for the built-in answerer ahead of the first questions (at most
    /// `maximumUnits`, the size of its cache); nothing when a language model answers.
    /// - Returns: how many sentences were embedded.
    public func warmUp(maximumUnits: Int = 40_000) async throws -> Int {
        guard llm == nil else { return 0 }
        return try await builtin.prepare(maximumUnits: maximumUnits)
    }

    /// Turns running in and waiting for the local engine, and how many may wait.
    public var engineLoad: (running: Int, waiting: Int, limit: Int)? {
        queue.map { queue in
            let load = queue.load
            return (load.running, load.waiting, queue.limit)
        }
    }

    /// The generator answers come from: the language model when one is configured, else the built-in answerer.
    public var generator: any AnswerGenerator { llm ?? builtin }

    /// Checks the question, rewrites a follow-up into a standalone query, retrieves and assembles the prompt.
    /// - Throws: ``ChatError`` (`invalidQuestion`) for an empty or too long question; store and knowledge bank errors.
    public func prepare(question raw: String, history: [HistoryEntry], rights: AccessRights) async throws -> Prepared {
        let started = ContinuousClock.now
        let question = try Self.checked(raw)
        let searchQuery = await standaloneQuery(question, history: history)
        var (passages, relevant, best) = try await retrieve(searchQuery, rights: rights)
        let retrievalMilliseconds = (ContinuousClock.now - started).inSeconds * 1000
        var historyText = trimmedHistory(history)
        let template = try await activeTemplate("answer")
        func render() -> String {
            let context = passages.map { "[\($0.number)] \($0.hit.title)\n\($0.hit.passage)" }.joined(separator: "\n\n")
            return template.render(["context": context, "question": question, "history": historyText.isEmpty ? "(none)" : historyText])
        }
        var prompt = render()
        if let engine, relevant {
            // The prompt must fit the engine's real window with room for the answer, counted by its own tokenizer.
            var attempts = 0
            while attempts < 12, let window = engine.status.contextTokens, let count = try? await engine.tokenCount(prompt) {
                let budget = window - min(configuration.answerTokens, window / 3) - Self.chatTemplateTokens
                guard count > budget else { break }
                attempts += 1
                if passages.count > 1 {
                    passages.removeLast()
                } else if !historyText.isEmpty {
                    historyText = ""
                } else if var first = passages.first {
                    // One passage longer than the window: keep its beginning.
                    let keep = max(200, Int(Double(first.hit.passage.count) * Double(budget) / Double(count) * 0.9))
                    guard keep < first.hit.passage.count else { break }
                    first.hit.passage = String(first.hit.passage.prefix(keep))
                    passages[0] = first
                } else {
                    break
                }
                prompt = render()
            }
        }
        return Prepared(
            question: question, searchQuery: searchQuery, passages: passages, prompt: prompt, relevant: relevant, bestScore: best,
            retrievalMilliseconds: retrievalMilliseconds, started: started, rights: rights)
    }

    /// The one turn loop: generates the answer, hands each token to `onToken` (which answers false once nobody is
    /// listening: the generation stops and what was generated is kept), maps generator failures, and checks the
    /// citations. Cancelling the calling task stops the generation too.
    /// - Throws: ``ChatError`` (`generatorFailed`, `generatorTimedOut`) when the language model fails before the answer
    ///   is complete and no fallback applies; the built-in answerer's embedding errors.
    public func respond(_ prepared: Prepared, onToken: (String) async -> Bool = { _ in true }) async throws -> Answer {
        let (stream, used) = generate(prepared)
        var text = ""
        var cancelled = false
        do {
            for try await token in stream {
                text += token
                if !(await onToken(token)) {
                    cancelled = true
                    break
                }
            }
        } catch let error as GenerationError {
            switch error.kind {
            case .timedOut: throw ChatError(.generatorTimedOut, error.description)
            case .providerFailed: throw ChatError(.generatorFailed, error.description)
            case .busy: throw ChatError(.generatorBusy, error.description, retryAfter: error.retryAfter.map { Int($0.rounded(.up)) })
            }
        } catch is CancellationError {
            // The asker left: keep what was generated.
            cancelled = true
        }
        var answer = try await finish(prepared, text: text, generator: used.name, check: !cancelled)
        answer.cancelled = cancelled
        if let claims = answer.claims, claims.supported == 0, configuration.fallbackToBuiltin, !cancelled {
            // Nothing the model wrote held up against its sources: the built-in answerer quotes them instead.
            logger.info("the model's answer did not hold up against its passages; answering with the built-in answerer")
            let request = GenerationRequest(question: prepared.question, passages: prepared.passages, prompt: prepared.prompt, rights: prepared.rights)
            var quoted = ""
            for try await token in builtin.generate(request) { quoted += token }
            answer = try await finish(prepared, text: quoted, generator: builtin.name)
            answer.claims = claims
        }
        return answer
    }

    /// Tokens the chat template wraps a prompt in (role markers), kept free besides the answer's.
    static let chatTemplateTokens = 48

    /// ``prepare(question:history:rights:)`` and ``respond(_:onToken:)`` in one call: what evaluation uses.
    public func answer(_ question: String, history: [HistoryEntry] = [], rights: AccessRights) async throws -> (Prepared, Answer) {
        let prepared = try await prepare(question: question, history: history, rights: rights)
        return (prepared, try await respond(prepared))
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
        // A passage that holds the question's telling words (a definition the model does not know, `Prokurist`,
        // `three-way match`) is relevant whatever its cosine.
        let relevant = !passages.isEmpty && (best >= configuration.relevanceThreshold || lexicalMatch(query, passages: passages.prefix(3), rights: rights))
        return (passages, relevant, best)
    }

    /// Whether one of `passages` (with its title) holds most of the question's telling words by weight: at least
    /// ``ChatConfiguration/lexicalRelevance`` of their idf, and two words or more.
    func lexicalMatch(_ query: String, passages: ArraySlice<NumberedPassage>, rights: AccessRights) -> Bool {
        let telling = QuestionTerms.telling(bank.termWeights(query, rights: rights))
        let total = telling.reduce(0) { $0 + $1.weight }
        guard total > 0 else { return false }
        let analyzer = EnglishAnalyzer()
        for passage in passages {
            let terms = Set(analyzer.terms(passage.hit.title + "\n" + passage.hit.passage))
            let found = telling.filter { $0.alternatives.contains(where: terms.contains) }
            let weight = found.reduce(0, { $0 + $1.weight })
            // One word is enough when it is the only one and rare (`Prokurist`).
            if weight >= configuration.lexicalRelevance * total, found.count >= 2 || found.first.map({ $0.weight >= 3 }) == true { return true }
        }
        return false
    }

    /// Which generator wrote an answer; known for sure only once the stream has ended (a fallback switches it).
    final class GeneratorUsed: Sendable {
        private let value: Mutex<String>
        init(_ name: String) { value = Mutex(name) }
        var name: String { value.withLock { $0 } }
        func set(_ name: String) { value.withLock { $0 = name } }
    }

    /// The question trimmed, when it is one the chat takes.
    /// - Throws: ``ChatError`` (`invalidQuestion`) for an empty question or one above 4,000 characters.
    public static func checked(_ raw: String) throws(ChatError) -> String {
        let question = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !question.isEmpty else { throw ChatError(.invalidQuestion, "message is empty", field: "message") }
        guard question.count <= maximumQuestion else { throw ChatError(.invalidQuestion, "message is at most 4,000 characters", field: "message") }
        return question
    }

    /// The tokens of the answer (the fixed no-answer text when the knowledge bank has nothing relevant).
    func generate(_ prepared: Prepared) -> (stream: AsyncThrowingStream<String, any Error>, generator: GeneratorUsed) {
        guard prepared.relevant else {
            return (AsyncThrowingStream { $0.yield(Self.noAnswer); $0.finish() }, GeneratorUsed("none"))
        }
        let request = GenerationRequest(question: prepared.question, passages: prepared.passages, prompt: prepared.prompt, rights: prepared.rights)
        guard let llm else { return (builtin.generate(request), GeneratorUsed(builtin.name)) }
        guard configuration.fallbackToBuiltin else { return (queued(llm, request), GeneratorUsed(llm.name)) }
        let used = GeneratorUsed(llm.name)
        // Fall back to the built-in answerer when the LLM fails before its first token.
        let builtin = builtin
        let logger = logger
        let stream = AsyncThrowingStream<String, any Error> { continuation in
            let task = Task {
                var sent = false
                do {
                    for try await token in queued(llm, request) {
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

    /// The language model's tokens once the local engine has room for the turn and is up; a full queue fails with
    /// `busy`, an engine that does not come up in time with `providerFailed`. Without the local engine: the model's
    /// tokens as they come.
    func queued(_ llm: OpenAIChatGenerator, _ request: GenerationRequest) -> AsyncThrowingStream<String, any Error> {
        guard let engine, let queue else { return llm.generate(request) }
        let wait = Duration.milliseconds(Int(llm.api.timeout * 1000))
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    try await queue.run {
                        guard await engine.waitUntilReady(timeout: wait) else {
                            throw GenerationError(
                                kind: .providerFailed, description: "the local LLM engine is \(engine.status.state.rawValue) (\(engine.status.lastExit ?? "not ready yet"))")
                        }
                        for try await token in llm.generate(request) { continuation.yield(token) }
                    }
                    continuation.finish()
                } catch let full as EngineQueue.Full {
                    continuation.finish(
                        throwing: GenerationError(
                            kind: .busy, description: "the local LLM engine is busy with \(queue.limit + 1) questions; ask again in \(full.retryAfter) s",
                            retryAfter: Double(full.retryAfter)))
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Cleans the citations of a generated text: citation formats models write become `[n]`, markers pointing nowhere
    /// go, a language model's sentences are checked against the passages they cite (``ClaimCheck``), and the cited
    /// passages become citations.
    func finish(_ prepared: Prepared, text raw: String, generator: String, check: Bool = true) async throws -> Answer {
        let generationMilliseconds = (ContinuousClock.now - prepared.started).inSeconds * 1000 - prepared.retrievalMilliseconds
        var text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        var cited: [Int] = []
        var claims: ClaimCheck.Result?
        let generated = generator.hasPrefix("llm:")
        if prepared.relevant {
            if generated {
                text = CitationFormats.normalized(text, titles: Dictionary(prepared.passages.map { ($0.number, $0.hit.title) }, uniquingKeysWith: { a, _ in a }))
            }
            (text, cited) = Citations.clean(text, validNumbers: Set(prepared.passages.map(\.number)))
            if generated, check, !text.isEmpty {
                let result = try await claimCheck.check(text, question: prepared.question, passages: prepared.passages)
                claims = result
                if !result.removed.isEmpty {
                    logger.info(
                        "the claim check removed \(result.removed.count) sentences (\(result.checked) cited ones checked): \(result.removed.map { $0.prefix(120) })")
                }
                // An answer with no cited sentence left is withheld whole: uncited prose around nothing is not an
                // answer from the knowledge bank.
                text = result.supported > 0 ? result.text : result.checked == 0 ? Self.uncited : Self.unsupported
                cited = []
                for match in text.matches(of: /\[(\d+)\]/) { if let n = Int(match.1), !cited.contains(n) { cited.append(n) } }
            }
            if text.isEmpty { text = Self.noAnswer }
        }
        let citations = cited.compactMap { number in prepared.passages.first { $0.number == number } }.map { passage in
            StoredCitation(
                n: passage.number, documentId: passage.hit.documentID, title: passage.hit.title, snippet: StoredCitation.snippet(passage.hit.passage),
                passage: passage.hit.passage, start: passage.hit.start, end: passage.hit.end, score: passage.hit.score)
        }
        return Answer(
            text: text, citations: citations, grounded: prepared.relevant && !cited.isEmpty && (claims.map { $0.supported > 0 } ?? true),
            generator: generator, retrievalMilliseconds: prepared.retrievalMilliseconds, generationMilliseconds: generationMilliseconds,
            cancelled: false, claims: claims)
    }

    /// A follow-up ("and for Germany?", "who approves it?") becomes a query that carries the previous question's terms.
    func standaloneQuery(_ question: String, history: [HistoryEntry]) async -> String {
        guard let previous = history.last(where: { $0.role == .user })?.text, FollowUp.looksLikeFollowUp(question) else { return question }
        if let llm, let template = try? await activeTemplate("rewrite") {
            let transcript = history.suffix(4).map { ($0.role == .user ? "User: " : "Assistant: ") + $0.text.prefix(500) }.joined(separator: "\n")
            if let rewritten = try? await llm.completion(template.render(["history": transcript, "question": question])),
                case let line = rewritten.trimmingCharacters(in: .whitespacesAndNewlines), !line.isEmpty, line.count <= 500
            {
                return line
            }
        }
        return FollowUp.carryTerms(from: previous, into: question)
    }

    private func activeTemplate(_ name: String) async throws -> PromptTemplate {
        if let record = try await prompts?.activePrompt(name: name), let template = try? PromptTemplate(name: name, text: record.template) {
            return template
        }
        return try PromptTemplate(name: name, text: PromptTemplate.kinds[name]!.defaultTemplate)
    }

    private func trimmedHistory(_ history: [HistoryEntry]) -> String {
        var lines: [String] = []
        var used = 0
        for entry in history.reversed() {
            let line = (entry.role == .user ? "User: " : "Assistant: ") + entry.text
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
}
