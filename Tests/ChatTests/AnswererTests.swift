@testable import Chat
import Foundation
import Logging
import Retrieval
import Storage
import StoreTesting
import Testing

/// The turn loop without a conversation store: what `omnifin eval --answers` runs.
@Suite("Answerer", .serialized)
struct AnswererTests {
    static let embedder: Result<BuiltinEmbedder, any Error> = Result { try BuiltinEmbedder(threads: 2) }

    static func withBank(_ body: (KnowledgeBank) async throws -> Void) async throws {
        try await TestStores.withStore(.sqlite) { store in
            let embedder = try embedder.get()
            let (bank, _) = try await KnowledgeBank.open(store: store, embedder: embedder, chunker: KnowledgeBank.defaultChunker(for: embedder))
            _ = try await bank.upsert(
                [
                    DocumentInput(
                        title: "Invoice approval policy",
                        body: "Invoices up to 10,000 EUR are approved by the budget owner. Above 10,000 EUR the finance controller approves as well."),
                    DocumentInput(title: "Payment runs", body: "Payment runs are on Tuesdays and Fridays. The cut-off is 12:00 the working day before."),
                    DocumentInput(title: "Board minutes", body: "The board approved the acquisition of Falcon GmbH.", access: AccessList(principals: ["role:admin"])),
                ], rights: .everything)
            try await body(bank)
        }
    }

    @Test("a question is answered from the passages with citations; off-topic ones get the no-answer text; hidden passages stay hidden")
    func answers() async throws {
        try await Self.withBank { bank in
            let answerer = Answerer(bank: bank, prompts: nil, configuration: ChatConfiguration(), logger: Logger(label: "test"))
            let (prepared, answer) = try await answerer.answer("When are payment runs?", rights: AccessRights(userID: "u", role: .user))
            #expect(prepared.relevant && answer.grounded && answer.generator == "builtin")
            #expect(answer.text.contains("Tuesdays") && answer.citations.first?.title == "Payment runs", "\(answer.text)")
            let (_, offTopic) = try await answerer.answer("What is the best pizza in Naples?", rights: AccessRights(userID: "u", role: .user))
            #expect(!offTopic.grounded && offTopic.text == Answerer.noAnswer && offTopic.citations.isEmpty && offTopic.generator == "none")
            let (_, hidden) = try await answerer.answer("Which acquisition did the board approve?", rights: AccessRights(userID: "u", role: .user))
            #expect(!hidden.citations.contains { $0.title == "Board minutes" } && !hidden.text.contains("Falcon"))
            await #expect(throws: ChatError.self) { _ = try await answerer.answer("   ", rights: .everything) }
        }
    }

    @Test("a listener that stops listening stops the answer: what was generated so far is kept, marked cancelled")
    func listenerLeaves() async throws {
        try await Self.withBank { bank in
            let answerer = Answerer(bank: bank, prompts: nil, configuration: ChatConfiguration(), logger: Logger(label: "test"))
            let prepared = try await answerer.prepare(question: "Who approves an invoice of 25,000 EUR?", history: [], rights: .everything)
            var tokens = 0
            let answer = try await answerer.respond(prepared) { _ in
                tokens += 1
                return tokens < 3
            }
            #expect(answer.cancelled && tokens == 3 && answer.text.split(separator: " ").count == 3, "\(answer.text)")
        }
    }
}
