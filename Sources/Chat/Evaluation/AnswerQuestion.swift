import Foundation

/// One question of an answer benchmark (`Benchmarks/answers/*.jsonl`): what is asked, which documents hold the
/// answer, and the key facts a complete answer states.
public struct AnswerQuestion: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// A fact from one document.
        case lookup
        /// A number, date or duration of the question checked against a threshold, range, deadline or rate.
        case applyRule = "apply-rule"
        /// Two or more facts, often from two documents.
        case combine
        /// On topic, but what is asked is not in the knowledge bank: must be refused.
        case unanswerable
        /// Nothing to do with the knowledge bank: must be refused.
        case offTopic = "off-topic"
    }

    public var id: String
    public var kind: Kind
    public var question: String
    public var answerable: Bool
    /// The documents that hold the answer: file names (external ids) or document ids.
    public var documents: [String]
    /// Key facts, all needed; each a list of acceptable surface forms (any one counts).
    public var mustContain: [[String]]
    /// Strings that make the answer wrong (the neighbouring band's approver, say).
    public var mustNotContain: [String]
    /// A key fact is computed (0.30 EUR × 85 km = 25.50) and may not stand in the documents.
    public var computed: Bool

    public init(
        id: String, kind: Kind, question: String, answerable: Bool, documents: [String], mustContain: [[String]] = [], mustNotContain: [String] = [],
        computed: Bool = false
    ) {
        self.id = id
        self.kind = kind
        self.question = question
        self.answerable = answerable
        self.documents = documents
        self.mustContain = mustContain
        self.mustNotContain = mustNotContain
        self.computed = computed
    }

    /// Why a question file cannot be used: the file, the line and what is wrong.
    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    private struct Line: Decodable {
        var id: String
        var kind: String
        var question: String
        var answerable: Bool
        var documents: [String]?
        var must_contain: [[String]]?
        var must_not_contain: [String]?
        var computed: Bool?
    }

    /// The demo questions' older format: a JSON list of `{question, document, answer_contains}`.
    private struct DemoItem: Decodable {
        var question: String
        var document: String
        var answer_contains: String?
    }

    /// The questions of a JSON Lines file (one question an object, the fields of `Benchmarks/answers/README.md`),
    /// or of a JSON list in the demo questions' format (each a `lookup` whose key fact is `answer_contains`).
    /// - Throws: ``LoadError`` naming the file and line of a malformed or inconsistent question, or a repeated id.
    public static func load(path: String) throws(LoadError) -> [AnswerQuestion] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw LoadError(description: "\(path): cannot be read (\(error.localizedDescription))")
        }
        if text.drop(while: \.isWhitespace).first == "[" {
            guard let items = try? JSONDecoder().decode([DemoItem].self, from: Data(text.utf8)) else {
                throw LoadError(description: "\(path): a JSON list of questions must hold {question, document, answer_contains?} objects")
            }
            return items.enumerated().map { index, item in
                AnswerQuestion(
                    id: String(format: "q%02d", index + 1), kind: .lookup, question: item.question, answerable: true, documents: [item.document],
                    mustContain: item.answer_contains.map { [[$0]] } ?? [])
            }
        }
        var questions: [AnswerQuestion] = []
        var seen: [String: Int] = [:]
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            guard !raw.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            let line: Line
            do {
                line = try JSONDecoder().decode(Line.self, from: Data(raw.utf8))
            } catch {
                throw LoadError(description: "\(path) line \(number): not a question object (\(Self.reason(error)))")
            }
            guard let kind = Kind(rawValue: line.kind) else {
                throw LoadError(
                    description: "\(path) line \(number): kind '\(line.kind)' is not one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let question = AnswerQuestion(
                id: line.id, kind: kind, question: line.question.trimmingCharacters(in: .whitespacesAndNewlines), answerable: line.answerable,
                documents: line.documents ?? [], mustContain: line.must_contain ?? [], mustNotContain: line.must_not_contain ?? [], computed: line.computed ?? false)
            if let problem = question.problem {
                throw LoadError(description: "\(path) line \(number) (\(line.id)): \(problem)")
            }
            if let first = seen[line.id] {
                throw LoadError(description: "\(path) line \(number): id \(line.id) is already used on line \(first)")
            }
            seen[line.id] = number
            questions.append(question)
        }
        guard !questions.isEmpty else { throw LoadError(description: "\(path): no questions") }
        return questions
    }

    /// What makes the question unusable, if anything.
    var problem: String? {
        if id.isEmpty { return "the id is empty" }
        if question.isEmpty { return "the question is empty" }
        let refusable = kind == .unanswerable || kind == .offTopic
        if answerable == refusable { return "answerable must be \(!refusable) for kind \(kind.rawValue)" }
        if answerable && documents.isEmpty { return "an answerable question names the documents that hold its answer" }
        if !answerable && !(documents.isEmpty && mustContain.isEmpty) { return "a question that must be refused has no documents and no key facts" }
        if mustContain.contains(where: { $0.isEmpty || $0.contains { FactMatcher.normalized($0).isEmpty } }) {
            return "every key fact needs at least one form with a word or a number"
        }
        return nil
    }

    private static func reason(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, _): "no \(key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            "\(context.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type"
        default: "malformed JSON"
        }
    }
}
