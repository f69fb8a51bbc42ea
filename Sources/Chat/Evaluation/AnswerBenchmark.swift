import Foundation
public import Logging
public import Retrieval
import Storage

/// Scores the chat's answers to a question set: every question goes through the chat's own turn
/// (``Answerer/answer(_:history:rights:)``: retrieval, the relevance threshold, the generator, the citation check),
/// twice — the first pass on a fresh answerer (cold caches) is scored and timed, the second only timed (warm).
public struct AnswerBenchmark: Sendable {
    public let answerer: Answerer

    public init(bank: KnowledgeBank, configuration: ChatConfiguration, logger: Logger = Logger(label: "omnifin.eval")) {
        answerer = Answerer(bank: bank, prompts: nil, configuration: configuration, logger: logger)
    }

    /// How one question went.
    public struct Result: Sendable, Codable {
        public var id: String
        public var kind: AnswerQuestion.Kind
        public var question: String
        /// The answer as the user sees it (the no-answer text when refused).
        public var answer: String
        /// Not grounded: the no-answer text, or no citation.
        public var refused: Bool
        /// Answerable questions: answered, every key fact stated, nothing forbidden.
        public var complete: Bool?
        /// The first form of each key fact the answer misses, and the forbidden strings it holds.
        public var missing: [String]
        public var forbidden: [String]
        /// The cited documents, as the question names them (file name when the document has one, else its id).
        public var cited: [String]
        /// Answered answerable questions: one of the cited documents holds the answer.
        public var citesRightDocument: Bool?
        /// Answered answerable questions: the first citation is a document that holds the answer.
        public var firstCitationRight: Bool?
        /// Answerable questions: the share of their documents the answer cites.
        public var citationRecall: Double?
        /// Pairs of answer sentences with the same content, and sentences that only restate the question.
        public var nearDuplicates: Int
        public var restatements: Int
        /// Answerable questions: the rank (1-based, among the distinct documents of the retrieved passages) of the
        /// first document that holds the answer; nil when none was retrieved.
        public var documentRank: Int?
        /// The cosine similarity of the best passage (what the relevance threshold is compared with).
        public var bestScore: Double
        public var coldMilliseconds: Double
        public var warmMilliseconds: Double
        public var generator: String
        /// From the question to the answer's first token, and the tokens (streamed pieces) after it.
        public var firstTokenMilliseconds: Double? = nil
        public var tokens = 0
        /// Milliseconds from the first token to the last.
        public var streamMilliseconds = 0.0
        /// A language model's answer: its sentences, those the claim check removed, and whether the whole answer
        /// was withheld (no cited sentence held up).
        public var sentences: Int? = nil
        public var sentencesRemoved: Int? = nil
        public var withheld = false
    }

    /// The figures of a group of questions; a figure is nil where no question of the group has it.
    public struct Figures: Sendable, Codable, Equatable {
        public var questions = 0
        /// Answerable questions: complete answers.
        public var complete: Double?
        /// Answered answerable questions: cite a document that holds the answer.
        public var citationAccuracy: Double?
        /// Answered answerable questions: the first citation holds the answer.
        public var citationPrecisionAt1: Double?
        /// Answerable questions: share of their documents cited, averaged.
        public var citationRecall: Double?
        /// Answerable questions: answered at all.
        public var answered: Double?
        /// Answerable questions wrongly refused.
        public var falseRefusals: Double?
        /// Unanswerable (on-topic) questions refused.
        public var unanswerableRefused: Double?
        /// Off-topic questions refused.
        public var offTopicRefused: Double?
        /// Answered questions whose answer holds two sentences of the same content.
        public var nearDuplicates: Double?
        /// Answered questions whose answer holds a sentence that only restates the question.
        public var restatements: Double?
        /// Answerable questions: a document that holds the answer is the first / among the first five retrieved.
        public var hitAt1: Double?
        public var hitAt5: Double?
        /// Answered questions: the median and 90th percentile of the answer's length in characters.
        public var answerCharactersP50 = 0.0
        public var answerCharactersP90 = 0.0
        public var coldP50Milliseconds = 0.0
        public var coldP95Milliseconds = 0.0
        public var warmP50Milliseconds = 0.0
        public var warmP95Milliseconds = 0.0
        /// Answered questions: time to the first token, p50 and p95, and tokens per second after it.
        public var firstTokenP50Milliseconds: Double?
        public var firstTokenP95Milliseconds: Double?
        public var tokensPerSecond: Double?
        /// A language model's answers: the share of their sentences the claim check removed, and of answers it
        /// withheld whole.
        public var sentencesRemoved: Double?
        public var withheld: Double?
    }

    /// One relevance threshold of a sweep, applied to the scored pass (an answer stays as it was when its best
    /// passage reaches the threshold, and is refused otherwise).
    public struct SweepRow: Sendable, Codable {
        public var threshold: Double
        public var complete: Double?
        public var falseRefusals: Double?
        public var unanswerableRefused: Double?
        public var offTopicRefused: Double?
    }

    public struct Report: Sendable, Codable {
        public var overall: Figures
        /// Per kind, in the order of ``AnswerQuestion/Kind/allCases``; kinds without questions left out.
        public var byKind: [String: Figures]
        public var relevanceThreshold: Double
        public var generator: String
        public var sweep: [SweepRow]
        public var results: [Result]
        /// With a warm-up first (as a server does after start): the sentences embedded and the seconds it took.
        public var warmUp: WarmUp?
    }

    public struct WarmUp: Sendable, Codable {
        public var sentences: Int
        public var seconds: Double
    }

    /// Embeds the bank's sentences first, as ``Answerer/warmUp(maximumUnits:)`` does when a server starts: the first
    /// pass then measures a started server rather than one asked before its warm-up ends.
    public func warmUp() async throws -> WarmUp {
        let started = ContinuousClock.now
        let sentences = try await answerer.warmUp()
        let elapsed = ContinuousClock.now - started
        return WarmUp(sentences: sentences, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    /// Answers every question twice and scores the first pass.
    /// - Parameters:
    ///   - sweep: relevance thresholds to report the refusal trade-off at (from the same answers).
    ///   - progress: called after each answer with the pass (1 or 2) and the questions done.
    public func run(_ questions: [AnswerQuestion], sweep: [Double] = [], progress: (Int, Int) -> Void = { _, _ in }) async throws -> Report {
        let names = try await documentNames()
        var results: [Result] = []
        for (index, question) in questions.enumerated() {
            let started = ContinuousClock.now
            let prepared = try await answerer.prepare(question: question.question, history: [], rights: .everything)
            var firstToken: ContinuousClock.Instant?
            var lastToken = started
            var tokens = 0
            let answer = try await answerer.respond(prepared) { _ in
                let now = ContinuousClock.now
                if firstToken == nil { firstToken = now } else { tokens += 1 }
                lastToken = now
                return true
            }
            let milliseconds = (ContinuousClock.now - started).inSeconds * 1000
            var result = score(question, prepared: prepared, answer: answer, names: names, milliseconds: milliseconds)
            // A language model's timing (the built-in answerer hands over its whole answer at once).
            if let firstToken, prepared.relevant, answer.generator.hasPrefix("llm:") {
                result.firstTokenMilliseconds = (firstToken - started).inSeconds * 1000
                result.tokens = tokens
                result.streamMilliseconds = (lastToken - firstToken).inSeconds * 1000
            }
            result.sentences = answer.claims?.sentences
            result.sentencesRemoved = answer.claims.map { $0.removed.count }
            result.withheld = answer.claims.map { $0.supported == 0 } ?? false
            results.append(result)
            progress(1, index + 1)
        }
        // A language model has no sentence cache to warm: one pass is enough.
        let secondPass = !answerer.generator.name.hasPrefix("llm:")
        for (index, question) in questions.enumerated() where secondPass {
            let started = ContinuousClock.now
            _ = try await answerer.answer(question.question, rights: .everything)
            results[index].warmMilliseconds = (ContinuousClock.now - started).inSeconds * 1000
            progress(2, index + 1)
        }
        var byKind: [String: Figures] = [:]
        for kind in AnswerQuestion.Kind.allCases {
            let group = results.filter { $0.kind == kind }
            if !group.isEmpty { byKind[kind.rawValue] = Self.figures(group) }
        }
        let rows = sweep.map { threshold in
            Self.sweepRow(results.map { result in
                var result = result
                if result.bestScore < threshold {
                    result.refused = true
                    if result.complete != nil { result.complete = false }
                }
                return result
            }, threshold: threshold)
        }
        return Report(
            overall: Self.figures(results), byKind: byKind, relevanceThreshold: answerer.configuration.relevanceThreshold,
            generator: answerer.generator.name, sweep: rows, results: results)
    }

    /// The name each document goes by in question files: its external id (a file name) when it has one, else its id.
    func documentNames() async throws -> [String: String] {
        var names: [String: String] = [:]
        var cursor: String?
        repeat {
            let page = try await answerer.bank.documents(after: cursor, limit: 1_000, source: nil, rights: .everything)
            for document in page.documents { names[document.id] = document.externalID ?? document.id }
            cursor = page.next
        } while cursor != nil
        return names
    }

    func score(_ question: AnswerQuestion, prepared: Answerer.Prepared, answer: Answerer.Answer, names: [String: String], milliseconds: Double)
        -> Result
    {
        let refused = !answer.grounded
        let text = answer.text
        let normalizedAnswer = " " + FactMatcher.normalized(text) + " "
        let missing = question.mustContain.filter { forms in !forms.contains { FactMatcher.contains(normalizedAnswer: normalizedAnswer, form: $0) } }
            .map { $0[0] }
        let forbidden = refused ? [] : question.mustNotContain.filter { FactMatcher.contains(normalizedAnswer: normalizedAnswer, form: $0) }
        let relevant = Set(question.documents)
        var cited: [String] = []
        for citation in answer.citations {
            let name = names[citation.documentId] ?? citation.documentId
            if !cited.contains(name) { cited.append(name) }
        }
        func holds(_ name: String) -> Bool { relevant.contains(name) }
        var retrieved: [String] = []
        for passage in prepared.passages {
            let name = names[passage.hit.documentID] ?? passage.hit.documentID
            if !retrieved.contains(name) { retrieved.append(name) }
        }
        let repeats = refused ? (0, 0) : AnswerRepeats.count(text, question: question.question)
        return Result(
            id: question.id, kind: question.kind, question: question.question, answer: text, refused: refused,
            complete: question.answerable ? !refused && missing.isEmpty && forbidden.isEmpty : nil, missing: missing, forbidden: forbidden,
            cited: cited, citesRightDocument: question.answerable && !refused ? cited.contains(where: holds) : nil,
            firstCitationRight: question.answerable && !refused ? cited.first.map(holds) ?? false : nil,
            citationRecall: question.answerable ? Double(relevant.intersection(cited).count) / Double(max(1, relevant.count)) : nil,
            nearDuplicates: repeats.0, restatements: repeats.1,
            documentRank: question.answerable ? retrieved.firstIndex(where: holds).map { $0 + 1 } : nil, bestScore: prepared.bestScore,
            coldMilliseconds: milliseconds, warmMilliseconds: 0, generator: answer.generator)
    }

    static func figures(_ results: [Result]) -> Figures {
        func share(_ values: [Bool]) -> Double? { values.isEmpty ? nil : Double(values.filter { $0 }.count) / Double(values.count) }
        let answerable = results.filter { $0.complete != nil }
        let answered = answerable.filter { !$0.refused }
        let replied = results.filter { !$0.refused }
        var figures = Figures()
        figures.questions = results.count
        figures.complete = share(answerable.map { $0.complete! })
        figures.citationAccuracy = share(answered.compactMap(\.citesRightDocument))
        figures.citationPrecisionAt1 = share(answered.compactMap(\.firstCitationRight))
        figures.citationRecall = answerable.isEmpty ? nil : answerable.compactMap(\.citationRecall).reduce(0, +) / Double(answerable.count)
        figures.answered = share(answerable.map { !$0.refused })
        figures.falseRefusals = share(answerable.map(\.refused))
        figures.unanswerableRefused = share(results.filter { $0.kind == .unanswerable }.map(\.refused))
        figures.offTopicRefused = share(results.filter { $0.kind == .offTopic }.map(\.refused))
        figures.nearDuplicates = share(replied.map { $0.nearDuplicates > 0 })
        figures.restatements = share(replied.map { $0.restatements > 0 })
        figures.hitAt1 = share(answerable.map { $0.documentRank == 1 })
        figures.hitAt5 = share(answerable.map { ($0.documentRank ?? 99) <= 5 })
        figures.answerCharactersP50 = percentile(replied.map { Double($0.answer.count) }, 0.50)
        figures.answerCharactersP90 = percentile(replied.map { Double($0.answer.count) }, 0.90)
        figures.coldP50Milliseconds = percentile(results.map(\.coldMilliseconds), 0.50)
        figures.coldP95Milliseconds = percentile(results.map(\.coldMilliseconds), 0.95)
        figures.warmP50Milliseconds = percentile(results.map(\.warmMilliseconds), 0.50)
        figures.warmP95Milliseconds = percentile(results.map(\.warmMilliseconds), 0.95)
        let timed = results.compactMap(\.firstTokenMilliseconds)
        if !timed.isEmpty {
            figures.firstTokenP50Milliseconds = percentile(timed, 0.50)
            figures.firstTokenP95Milliseconds = percentile(timed, 0.95)
            let streamed = results.reduce(0.0) { $0 + $1.streamMilliseconds }
            if streamed > 0 { figures.tokensPerSecond = Double(results.reduce(0) { $0 + $1.tokens }) / (streamed / 1000) }
        }
        let sentences = results.compactMap(\.sentences).reduce(0, +)
        if sentences > 0 { figures.sentencesRemoved = Double(results.compactMap(\.sentencesRemoved).reduce(0, +)) / Double(sentences) }
        let checkedAnswers = results.filter { $0.sentences != nil }
        if !checkedAnswers.isEmpty { figures.withheld = Double(checkedAnswers.filter(\.withheld).count) / Double(checkedAnswers.count) }
        return figures
    }

    static func sweepRow(_ results: [Result], threshold: Double) -> SweepRow {
        let figures = figures(results)
        return SweepRow(
            threshold: threshold, complete: figures.complete, falseRefusals: figures.falseRefusals, unanswerableRefused: figures.unanswerableRefused,
            offTopicRefused: figures.offTopicRefused)
    }

    /// The nearest-rank percentile.
    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1))]
    }
}

/// Repetition in an answer: two sentences with the same content (one's content words nearly all in the other),
/// and sentences that only restate the question (no content word or number the question lacks).
public enum AnswerRepeats {
    /// (pairs of near-duplicate sentences, sentences restating the question).
    public static func count(_ answer: String, question: String) -> (Int, Int) {
        let analyzer = EnglishAnalyzer()
        let sentences = Self.sentences(answer).map { Set(analyzer.terms($0)) }.filter { $0.count >= 2 }
        let asked = Set(analyzer.terms(question))
        var pairs = 0
        for i in sentences.indices {
            for j in sentences.indices where j > i {
                let shared = sentences[i].intersection(sentences[j]).count
                if Double(shared) >= 0.85 * Double(min(sentences[i].count, sentences[j].count)) { pairs += 1 }
            }
        }
        let restating = sentences.filter { $0.isSubset(of: asked) }.count
        return (pairs, restating)
    }

    /// The answer's sentences and list items, citation markers removed.
    static func sentences(_ text: String) -> [String] {
        let cleaned = text.replacing(/\[\d+(?:,\s*\d+)*\]/, with: "")
        let utf16 = Array(cleaned.utf16)
        return SentenceSplitter.sentences(in: cleaned).map { String(decoding: utf16[$0], as: UTF16.self) }
    }
}
