import Foundation
@testable import Retrieval
import Storage
import StoreTesting
import Testing

/// Two knowledge banks over one database: what replicas of `omnifin serve` are.
@Suite("KnowledgeBank: following writes made by another process", .serialized)
struct KnowledgeFollowTests {
    /// Two banks, each over its own connection to one fresh database of `kind`.
    static func withTwoBanks(_ kind: StoreKind, _ body: (KnowledgeBank, KnowledgeBank) async throws -> Void) async throws {
        try await TestStores.withDatabaseURL(kind) { url in
            try await TestStores.withReopenedStore(kind, url: url) { storeA in
                try await TestStores.withReopenedStore(kind, url: url) { storeB in
                    let (a, _) = try await KnowledgeBankTests.open(storeA)
                    let (b, _) = try await KnowledgeBankTests.open(storeB)
                    try await body(a, b)
                }
            }
        }
    }

    static func everything(_ bank: KnowledgeBank, _ text: String) async throws -> [String] {
        try await bank.search(KnowledgeQuery(text, k: 10), rights: .everything).map(\.documentID)
    }

    /// Every document id and its passage ids, for comparing two banks.
    static func contents(_ bank: KnowledgeBank) -> [String: [Int64]] {
        bank.read { state in state.documents.mapValues { $0.chunkIDs.sorted() } }
    }

    @Test("catching up applies another bank's creates, updates, access changes and deletes; twice changes nothing", arguments: StoreKind.allCases)
    func catchUp(kind: StoreKind) async throws {
        try await Self.withTwoBanks(kind) { a, b in
            try await a.upsert([Corpus.invoices, Corpus.expenses, Corpus.account], rights: .everything)
            #expect(b.documentCount == 0)
            #expect(try await b.catchUp() == 3)
            #expect(b.generation == a.generation)
            #expect(Self.contents(b) == Self.contents(a))
            #expect(try await Self.everything(b, "itemised hotel receipts").first == "policy-expenses")
            #expect(b.vectorCount == a.vectorCount && b.passageCount == a.passageCount)

            // A text change, an access change and a delete, in three writes.
            var expenses = Corpus.expenses
            expenses.body = "Expense reports are due within 45 days. Mileage is refunded at 0.30 EUR per kilometre."
            try await a.upsert([expenses], rights: .everything)
            var invoices = Corpus.invoices
            invoices.access = AccessList(principals: ["group:finance"])
            try await a.upsert([invoices], rights: .everything)
            try await a.delete(ids: [try #require(Self.contents(a).keys.first { $0 != "policy-expenses" && $0 != "policy-invoices" })], rights: .everything)
            #expect(try await b.catchUp() == 3)
            #expect(Self.contents(b) == Self.contents(a))
            #expect(try await Self.everything(b, "mileage per kilometre").first == "policy-expenses")
            let outsider = AccessRights(userID: "u1", role: .user)
            #expect(try await b.search(KnowledgeQuery("supplier invoice approval", k: 5), rights: outsider).map(\.documentID).contains("policy-invoices") == false)
            #expect(try await Self.everything(b, "supplier invoice approval").first == "policy-invoices")
            #expect(try await b.search(KnowledgeQuery("Acme billing city", k: 5, mode: .bm25), rights: .everything).isEmpty)
            #expect(try await b.catchUp() == 0)
            #expect(b.vectorCount == a.vectorCount && b.passageCount == a.passageCount)
        }
    }

    @Test("a bank writing after another bank wrote sees that write first, and keeps every write of both", arguments: StoreKind.allCases)
    func interleavedWrites(kind: StoreKind) async throws {
        try await Self.withTwoBanks(kind) { a, b in
            try await a.upsert([Corpus.account], rights: .everything)
            // B has not caught up, yet the same (source, external id) updates A's document instead of clashing.
            var account = Corpus.account
            account.body += "\nRating: Hot"
            let outcome = try await b.upsert([account], rights: .everything)
            #expect(outcome.map(\.change) == [.updated])
            try await a.upsert([Corpus.board], rights: .everything)
            try await b.upsert([Corpus.salaries], rights: .everything)
            #expect(try await a.catchUp() >= 1)
            #expect(Self.contents(a) == Self.contents(b))
            #expect(a.generation == b.generation)
            #expect(try await a.store.knowledgeGeneration() == a.generation)
            #expect(Set(Self.contents(a).keys).count == 3)
        }
    }
}
