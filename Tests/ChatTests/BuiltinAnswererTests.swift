@testable import Chat
import Foundation
import Logging
import Retrieval
import Storage
import StoreTesting
import Testing

/// The built-in answerer on rules written for these tests (not the demo corpus): bands, rates, lists split across
/// passages, repeats, refusals.
@Suite("Built-in answerer", .serialized)
struct BuiltinAnswererTests {
    static let travel = """
        Business trips need an approval before anything is booked.

        ## Approval

        Trips are approved in the travel tool by the people listed below. Amounts are the trip's total estimated cost.

        - Trips up to 2,000 EUR are approved by the team lead.
        - Trips above 2,000 EUR also need the approval of the department head.
        - Trips above 20,000 EUR also need the COO's approval.

        ## Mileage

        Private cars are reimbursed at 0.42 EUR per kilometre. Bicycles are reimbursed at 0.10 EUR per kilometre.

        ## Team events

        The limit for team events is 60 EUR per person, drinks included.

        ## What is not reimbursed

        - Upgrades to first class.
        - Lounge passes.

        ## Common questions

        Who approves a trip of 5,000 EUR? The team lead and the department head.
        """

    static let onboarding = """
        New laptops are ordered by the IT service desk. Every new employee receives the following on day one:

        - A laptop with the standard software image.
        - A badge for the office doors.
        - A headset for calls.
        - A welcome folder with the travel policy.
        - An account in the travel tool.
        - An account in the expense tool.
        - A mentor from the same team.
        - A lunch voucher for the first week.

        The CEO signs every employment contract above 100,000 EUR per year.
        """

    static func withAnswerer(_ body: (Answerer) async throws -> Void) async throws {
        try await TestStores.withStore(.sqlite) { store in
            let embedder = try AnswererTests.embedder.get()
            // Small passages, so lists and sections are cut across several of them.
            let chunker = Chunker(targetTokens: 40, maxTokens: 60, overlapTokens: 0, countTokens: { embedder.tokenizer.pieceCount($0) })
            let (bank, _) = try await KnowledgeBank.open(store: store, embedder: embedder, chunker: chunker)
            _ = try await bank.upsert(
                [
                    DocumentInput(source: "test", externalID: "travel.md", title: "Travel policy", body: travel),
                    DocumentInput(source: "test", externalID: "onboarding.md", title: "Onboarding", body: onboarding),
                    DocumentInput(source: "test", externalID: "copy.md", title: "Travel summary", body: "Private cars are reimbursed at 0.42 EUR per kilometre."),
                ], rights: .everything)
            try await body(Answerer(bank: bank, prompts: nil, configuration: ChatConfiguration(), logger: Logger(label: "test")))
        }
    }

    static func ask(_ answerer: Answerer, _ question: String) async throws -> Answerer.Answer {
        try await answerer.answer(question, rights: .everything).1
    }

    @Test("the band the amount falls in is answered, with the bands a cumulative rule builds on, and only those")
    func bands() async throws {
        try await Self.withAnswerer { answerer in
            let small = try await Self.ask(answerer, "who signs off a 1.5k trip?")
            #expect(small.grounded && small.text.contains("team lead"), "\(small.text)")
            #expect(!small.text.contains("department head") && !small.text.contains("COO"), "\(small.text)")
            let large = try await Self.ask(answerer, "who has to approve a €30.000 trip to Tokyo")
            #expect(large.text.contains("team lead") && large.text.contains("department head") && large.text.contains("COO"), "\(large.text)")
            let middle = try await Self.ask(answerer, "trip costs 8,500 euros, who approves it?")
            #expect(middle.text.contains("department head") && !middle.text.contains("COO"), "\(middle.text)")
            // No amount asked: every band, each item cited.
            let all = try await Self.ask(answerer, "who approves trips?")
            for approver in ["team lead", "department head", "COO"] { #expect(all.text.contains(approver), "\(all.text)") }
            #expect(all.text.contains("- Trips up to 2,000 EUR are approved by the team lead ["), "\(all.text)")
            // The question's own bound: `above 20,000` is past the band's bound, not on it.
            let above = try await Self.ask(answerer, "and trips above 20,000 EUR, who signs those?")
            #expect(above.text.contains("COO"), "\(above.text)")
        }
    }

    @Test("a rate of the policy times a quantity of the question, and a total per person against a per-person limit")
    func arithmetic() async throws {
        try await Self.withAnswerer { answerer in
            let mileage = try await Self.ask(answerer, "how much can I claim for driving my own car 120 km?")
            #expect(mileage.text.contains("50.40 EUR"), "\(mileage.text)")
            let event = try await Self.ask(answerer, "team dinner for 8 people came to 560 eur, is that within the limit for team events?")
            #expect(event.text.contains("70 EUR per person") && event.text.contains("above the limit of 60 EUR"), "\(event.text)")
        }
    }

    @Test("a list comes whole with its lead-in, even when passages cut it; no markup; nothing said twice")
    func lists() async throws {
        try await Self.withAnswerer { answerer in
            let kit = try await Self.ask(answerer, "what does a new employee get on day one?")
            for item in ["laptop", "badge", "headset", "welcome folder", "mentor", "lunch voucher"] {
                #expect(kit.text.contains(item), "\(item) missing from \(kit.text)")
            }
            #expect(kit.text.contains("the following on day one"), "\(kit.text)")
            let notPaid = try await Self.ask(answerer, "are lounge passes reimbursed?")
            #expect(notPaid.text.contains("What is not reimbursed: Lounge passes"), "\(notPaid.text)")
            let mileage = try await Self.ask(answerer, "what is the mileage rate for a private car?")
            #expect(mileage.text.components(separatedBy: "0.42 EUR per kilometre").count == 2, "said once: \(mileage.text)")
            for answer in [kit, notPaid, mileage] { #expect(!answer.text.contains("**") && !answer.text.contains("##"), "\(answer.text)") }
        }
    }

    @Test("two questions in one get both answers; an FAQ example about another amount does not answer")
    func parts() async throws {
        try await Self.withAnswerer { answerer in
            let both = try await Self.ask(answerer, "what's the mileage rate for bicycles and who orders new laptops?")
            #expect(both.text.contains("0.10 EUR") && both.text.contains("IT service desk"), "\(both.text)")
            let other = try await Self.ask(answerer, "who approves a trip of 25,000 EUR?")
            #expect(other.text.contains("COO"), "\(other.text)")
        }
    }

    /// Words the bank has never seen count only in a bank of realistic size (see `ChatTests.demoCorpus` for `how much
    /// does the CFO make?` on the demo corpus); here the kind of answer and the count asked for decide.
    @Test("questions the bank cannot answer are refused even when the subject matches")
    func refusals() async throws {
        try await Self.withAnswerer { answerer in
            for question in ["who is our travel agency?", "how many laptops do we have?", "tell me a joke"] {
                let answer = try await Self.ask(answerer, question)
                #expect(!answer.grounded && answer.text == Answerer.noAnswer, "\(question): \(answer.text)")
            }
        }
    }

    @Test("an outline: lists with their lead-in, table rows under their header, FAQ answers, no markup")
    func outline() {
        let outline = DocumentOutline(body: """
            ## Limits

            Approvals are listed **below**:

            - Up to 10,000 EUR: budget owner.
            - Above 10,000 EUR: finance controller,
              and the [CFO](https://example.com) above 100,000 EUR.

            | Country | Full day | Partial day |
            |---|---|---|
            | Netherlands | 47 EUR | 32 EUR |

            Who approves? The budget owner.
            """)
        let kinds = outline.units.map(\.kind)
        #expect(kinds == [.leadIn, .item, .item, .row, .question, .answer], "\(kinds)")
        #expect(outline.units[0].text == "Approvals are listed below:")
        #expect(outline.units[2].text == "Above 10,000 EUR: finance controller, and the CFO above 100,000 EUR.")
        #expect(outline.units[2].leadIn == 0 && outline.units[1].group == outline.units[2].group)
        #expect(outline.units[3].text == "Netherlands: full day 47 EUR, partial day 32 EUR")
        #expect(outline.units[5].question == 4 && outline.units.allSatisfy { $0.section == ["Limits"] })
    }

    @Test("question parts, the kind of answer asked for, and the focus")
    func analysis() {
        let two = QuestionAnalysis("when is the december salary paid and by when do my expenses need to be approved to be in it?")
        #expect(two.parts.count == 2 && two.parts[0].ask == .time && two.parts[1].ask == .time)
        let coordinated = QuestionAnalysis("amsterdam trip - what's the hotel cap there and the per diem for a full day?")
        #expect(coordinated.parts.count == 2 && coordinated.parts[1].text.contains("what is the per diem"), "\(coordinated.parts.map(\.text))")
        let context = QuestionAnalysis("i'm a new budget owner, what am i allowed to approve on my own?")
        #expect(context.parts.count == 1)
        #expect(QuestionAnalysis("which department is cost centre 5230?").parts[0].ask == .choice)
        #expect(QuestionAnalysis("corprate card limit per month?").parts[0].ask == .amount)
        #expect(QuestionAnalysis("who can sign a 20k contract with an event agency?").parts[0].focus == "sign a 20k contract")
        #expect(QuestionAnalysis("what's their name?").parts[0].wantsName)
        #expect(QuestionAnalysis.personName("Finance controller: Markus Braun, responsible for the close"))
        #expect(!QuestionAnalysis.personName("Contracts are stored in Odoo Documents."))
        #expect(!QuestionAnalysis.personName("in Amsterdam, Paris, Warsaw and London"))
    }
}
