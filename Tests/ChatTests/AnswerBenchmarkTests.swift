@testable import Chat
import Foundation
import Testing

@Suite("Answer benchmark")
struct AnswerBenchmarkTests {
    @Test("key facts match however numbers and currencies are written, on word boundaries")
    func facts() {
        #expect(FactMatcher.contains("Invoices above 10.000 EUR need…", "10,000"))
        #expect(FactMatcher.contains("up to 10 000 euros", "€10,000"))
        #expect(FactMatcher.contains("a 10k limit", "10,000"))
        #expect(FactMatcher.contains("costs €25,000 in total", "25000 EUR"))
        #expect(FactMatcher.contains("the CFO's approval", "CFO"))
        #expect(FactMatcher.contains("Up to 10,000 EUR: one quote is enough", "one quote"))
        #expect(FactMatcher.contains("VAT is 19%", "19 %") && FactMatcher.contains("19 per cent", "19%"))
        #expect(FactMatcher.contains("paid at 8:30", "08:30"))
        #expect(!FactMatcher.contains("three approvers", "HR"), "HR is not found inside a word")
        #expect(!FactMatcher.contains("100 EUR", "10"), "10 is not found inside 100")
        #expect(!FactMatcher.contains("0.30 EUR", "30"))
        #expect(FactMatcher.contains("approved by the finance controller", "finance controller"))
        #expect(FactMatcher.normalized("€1,000.50 and 2,5 %") == "1000.5 eur and 2.5 percent")
    }

    @Test("question files: JSON Lines with line numbers in errors, or the demo questions' list")
    func questionFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-answers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = directory.appendingPathComponent("good.jsonl")
        try """
            {"id": "a1", "kind": "apply-rule", "question": "who signs off 25k?", "answerable": true, "documents": ["x.md"], "must_contain": [["budget owner"]], "must_not_contain": ["CFO"]}

            {"id": "a2", "kind": "off-topic", "question": "tell me a joke", "answerable": false, "documents": [], "must_contain": []}
            """.write(to: good, atomically: true, encoding: .utf8)
        let questions = try AnswerQuestion.load(path: good.path)
        #expect(questions.map(\.kind) == [.applyRule, .offTopic] && questions[0].mustNotContain == ["CFO"])

        func failure(_ text: String) -> String {
            let file = directory.appendingPathComponent("bad.jsonl")
            try? text.write(to: file, atomically: true, encoding: .utf8)
            do {
                _ = try AnswerQuestion.load(path: file.path)
                return ""
            } catch {
                return error.description
            }
        }
        #expect(failure("{\"id\": \"a1\"}").contains("line 1: not a question object (no kind)"))
        #expect(failure("{\"id\": \"a1\", \"kind\": \"easy\", \"question\": \"q\", \"answerable\": true, \"documents\": [\"x\"], \"must_contain\": []}").contains("kind 'easy'"))
        #expect(failure("{\"id\": \"a1\", \"kind\": \"lookup\", \"question\": \"q\", \"answerable\": false, \"documents\": [], \"must_contain\": []}").contains("answerable must be true"))
        let line = "{\"id\": \"a1\", \"kind\": \"lookup\", \"question\": \"q\", \"answerable\": true, \"documents\": [\"x\"], \"must_contain\": [[\"y\"]]}"
        #expect(failure(line + "\n" + line).contains("line 2: id a1 is already used on line 1"))
        #expect(failure("").contains("no questions"))

        let demo = directory.appendingPathComponent("demo.json")
        try #"[{"question": "Who approves?", "document": "x.md", "answer_contains": "budget owner"}]"#.write(to: demo, atomically: true, encoding: .utf8)
        #expect(try AnswerQuestion.load(path: demo.path).first?.mustContain == [["budget owner"]])
    }

    @Test("repeats: the same content twice, or a sentence that only says back the question")
    func repeats() {
        #expect(AnswerRepeats.count("On the fifth working day of the following month [1]. The books close on the fifth working day of the following month [2].", question: "when do the books close?").0 == 1)
        #expect(AnswerRepeats.count("Up to 10,000 EUR: budget owner [1]. Above 100,000 EUR: CFO [1].", question: "who approves?").0 == 0)
        #expect(AnswerRepeats.count("Invoice approval [1]. The budget owner approves [1].", question: "invoice approval?").1 == 1)
    }

    @Test("percentiles and shares")
    func figures() {
        #expect(AnswerBenchmark.percentile([5, 1, 3, 2, 4], 0.5) == 3 && AnswerBenchmark.percentile([5, 1, 3, 2, 4], 0.95) == 5)
        #expect(AnswerBenchmark.percentile([], 0.5) == 0)
    }
}
