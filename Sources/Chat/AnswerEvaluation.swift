import Foundation
import Logging
public import Retrieval

/// Measures the chat's answers, not only its rankings: for each question, the built-in pipeline (hybrid
/// retrieval, the relevance threshold, the extractive answerer, citation checks) answers, and the citations are
/// scored against the documents known to hold the answer.
public enum AnswerEvaluation {
    public struct Question: Sendable {
        public var text: String
        /// Documents that answer it (knowledge bank document ids); empty for a question that must go unanswered.
        public var relevant: Set<String>
        /// A phrase the answer must contain (optional).
        public var expected: String?

        public init(text: String, relevant: Set<String>, expected: String? = nil) {
            self.text = text
            self.relevant = relevant
            self.expected = expected
        }
    }

    public struct Report: Sendable, Codable {
        public var questions = 0
        /// Share of the questions that got a grounded answer.
        public var answeredRate = 0.0
        /// Among answered questions: the first citation is a relevant document.
        public var citationPrecisionAt1 = 0.0
        /// Among all answerable questions: the share of their relevant documents that the answer cites (averaged).
        public var citationRecall = 0.0
        /// Among questions with an expected phrase: the answer contains it.
        public var containsExpected: Double?
        public var secondsPerQuestion = 0.0
        /// Per question: the cosine similarity of the best passage (what the relevance threshold is compared with).
        public var bestScores: [Double] = []
        /// Per question: the answer ("" when unanswered).
        public var answers: [String] = []
    }

    /// Answers every question through the chat's own turn (``Answerer``) over `bank`: no conversation is stored.
    public static func run(bank: KnowledgeBank, questions: [Question], configuration: ChatConfiguration = ChatConfiguration()) async throws -> Report {
        let answerer = Answerer(bank: bank, prompts: nil, configuration: configuration, logger: Logger(label: "omnifin.eval"))
        var report = Report()
        var answered = 0
        var precise = 0
        var recall = 0.0
        var answerable = 0
        var expectedTotal = 0
        var expectedFound = 0
        let started = ContinuousClock.now
        for question in questions {
            let (prepared, reply) = try await answerer.answer(question.text, rights: .everything)
            report.bestScores.append(prepared.bestScore)
            let cited = reply.grounded ? reply.citations.map(\.documentId) : []
            let answer = reply.grounded ? reply.text : ""
            report.answers.append(answer)
            if !question.relevant.isEmpty { answerable += 1 }
            if !cited.isEmpty {
                answered += 1
                if question.relevant.contains(cited[0]) { precise += 1 }
            }
            if !question.relevant.isEmpty {
                recall += Double(question.relevant.intersection(cited).count) / Double(question.relevant.count)
            }
            if let expected = question.expected {
                expectedTotal += 1
                if answer.contains(expected) { expectedFound += 1 }
            }
        }
        report.questions = questions.count
        report.answeredRate = questions.isEmpty ? 0 : Double(answered) / Double(questions.count)
        report.citationPrecisionAt1 = answered == 0 ? 0 : Double(precise) / Double(answered)
        report.citationRecall = answerable == 0 ? 0 : recall / Double(answerable)
        report.containsExpected = expectedTotal == 0 ? nil : Double(expectedFound) / Double(expectedTotal)
        report.secondsPerQuestion = questions.isEmpty ? 0 : (ContinuousClock.now - started).inSeconds / Double(questions.count)
        return report
    }
}
