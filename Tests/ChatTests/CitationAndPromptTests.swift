@testable import Chat
import Testing

@Suite("Citations, follow-ups, prompt templates")
struct CitationAndPromptTests {
    @Test("citation markers that point nowhere are removed; follow-ups carry terms")
    func citationsAndFollowUps() {
        let cleaned = Citations.clean("Limit is 10,000 EUR [1]. CFO signs [9]. Both [1, 7] and [2,3]. Array[x] stays.", validNumbers: [1, 2])
        #expect(cleaned.text == "Limit is 10,000 EUR [1]. CFO signs. Both [1] and [2]. Array[x] stays.")
        #expect(cleaned.cited == [1, 2])
        #expect(FollowUp.looksLikeFollowUp("And for Germany?"))
        #expect(FollowUp.looksLikeFollowUp("Who approves it?"))
        #expect(!FollowUp.looksLikeFollowUp("What is the meal allowance in Germany for a full day of travel?"))
        #expect(FollowUp.carryTerms(from: "What is the daily meal allowance in Germany?", into: "And in France?") == "And in France? daily meal allowance Germany")
        #expect(ExtractiveAnswerer.cite("Payment runs happen every Tuesday.", 2) == "Payment runs happen every Tuesday [2].")
        #expect(throws: PromptTemplate.Invalid.self) { try PromptTemplate(name: "answer", text: "{{question}}") }
        let template = try? PromptTemplate(name: "answer", text: "C: {{context}} Q: {{ question }}")
        #expect(template?.render(["context": "{{question}}", "question": "why?"]) == "C: {{question}} Q: why?")
    }
}
