import Foundation
import Logging
@testable import Retrieval
import Storage
import StoreTesting
import Testing

/// The built-in model under another name: stands for "the embeddings were made by a different model".
struct RenamedEmbedder: Embedder {
    let base: BuiltinEmbedder
    let modelName: String
    var dimension: Int? { base.dimension }
    func embed(_ texts: [String]) async throws -> [[Float]] { try await base.embed(texts) }
}

enum Corpus {
    static let invoices = DocumentInput(
        id: "policy-invoices", title: "Invoice approval policy",
        body: """
            Every supplier invoice above 10,000 EUR needs a second approval by the finance controller. \
            Invoices below that limit are approved by the budget owner alone.

            Approved invoices are paid in the next payment run. Payment runs happen every Tuesday and Friday.
            """)
    static let expenses = DocumentInput(
        id: "policy-expenses", title: "Travel expenses",
        body: "Submit an expense report within 30 days of travel. Attach every receipt; hotel bills must be itemised.")
    static let salaries = DocumentInput(
        id: "payroll-salaries", title: "Salary bands 2026",
        body: "Salary bands for controllers range from 70,000 to 95,000 EUR. Bonuses are paid in March.",
        access: AccessList(principals: ["group:payroll"]))
    static let board = DocumentInput(
        id: "board-minutes", title: "Board minutes on the acquisition",
        body: "The board approved the acquisition of the supplier for 12 million EUR. Payment in two tranches.",
        access: AccessList(principals: ["role:editor"]))
    static let account = DocumentInput(
        id: nil, source: "salesforce", externalID: "Account/001A", title: "Acme Holdings",
        body: "Type: Customer\nIndustry: Manufacturing\nBilling City: Rotterdam\nAnnual Revenue: 12000000", kind: .record)

    static func longDocument(lastParagraph: String) -> DocumentInput {
        let paragraphs = (1...12).map { n in
            "Section \(n) of the treasury manual describes cash pooling rule number \(n). The regional treasury desk reviews the pool "
                + "balance every morning, sweeps surplus cash to the central account, and reports exceptions above the threshold to the CFO."
        }
        return DocumentInput(id: "treasury-manual", title: "Treasury manual", body: (paragraphs + [lastParagraph]).joined(separator: "\n\n"))
    }
}

@Suite("KnowledgeBank", .serialized)
struct KnowledgeBankTests {
    static func open(_ store: any KnowledgeStore, snapshot: String? = nil, embedder: (any Embedder)? = nil) async throws -> (KnowledgeBank, OpenReport) {
        let builtin = try TestModel.load()
        var logger = Logger(label: "omnifin.test")
        logger.logLevel = .error
        return try await KnowledgeBank.open(
            store: store, embedder: embedder ?? builtin, chunker: Chunker(tokenizer: builtin.tokenizer),
            configuration: .init(snapshotPath: snapshot, keepExactIndex: true, buildThreads: 2), logger: logger)
    }

    static func ids(_ hits: [KnowledgeHit]) -> [String] { hits.map(\.documentID) }

    @Test("writes keep the store, the vector index and BM25 in step", arguments: StoreKind.allCases)
    func consistency(kind: StoreKind) async throws {
        try await TestStores.withStore(kind) { store in
            let (bank, report) = try await Self.open(store)
            #expect(report.indexSource == .empty)
            let created = try await bank.upsert([Corpus.invoices, Corpus.expenses, Corpus.account], rights: .everything)
            #expect(created.map(\.change) == [.created, .created, .created])
            #expect(created.allSatisfy { $0.embedded == $0.chunks && $0.chunks >= 1 })
            let accountID = created[2].documentID

            func counts() async throws -> (Int, Int, Int) { (try await store.chunkCount(), bank.vectorCount, bank.passageCount) }
            let total = created.reduce(0) { $0 + $1.chunks }
            #expect(try await counts() == (total, total, total))

            let bm25 = try await bank.search(KnowledgeQuery("itemised hotel receipts", k: 3, mode: .bm25), rights: .everything)
            #expect(bm25.first?.documentID == "policy-expenses")
            let dense = try await bank.search(KnowledgeQuery("who has to sign off on a large bill from a vendor?", k: 3, mode: .dense), rights: .everything)
            #expect(dense.first?.documentID == "policy-invoices")
            let hybrid = try await bank.search(KnowledgeQuery("Which city is Acme billed in?", k: 2), rights: .everything)
            let top = try #require(hybrid.first)
            #expect(top.documentID == accountID && top.title == "Acme Holdings")
            #expect(top.passage.contains("Billing City: Rotterdam") && top.denseRank != nil && top.bm25Rank != nil)
            #expect(top.start == 0 && top.end == (Corpus.account.body as NSString).length)

            // The same export again: nothing written. A changed record: updated in place, found by its key.
            let generation = bank.generation
            #expect(try await bank.upsert([Corpus.account], rights: .everything).map(\.change) == [.unchanged])
            #expect(bank.generation == generation)
            var moved = Corpus.account
            moved.body = moved.body.replacingOccurrences(of: "Rotterdam", with: "Antwerp")
            let updated = try await bank.upsert([moved], rights: .everything)
            #expect(updated.map(\.documentID) == [accountID] && updated.map(\.change) == [.updated])
            let after = try await bank.search(KnowledgeQuery("Antwerp", k: 1, mode: .bm25), rights: .everything)
            #expect(after.first?.documentID == accountID)
            #expect(try await bank.search(KnowledgeQuery("Rotterdam", k: 1, mode: .bm25), rights: .everything).isEmpty)

            // Access-only change: no re-embedding.
            var restricted = Corpus.expenses
            restricted.access = AccessList(principals: ["role:editor"])
            #expect(try await bank.upsert([restricted], rights: .everything).map { [$0.change.rawValue, "\($0.embedded)"] } == [["metadata_updated", "0"]])
            let user = AccessRights(userID: "u1", role: .user)
            #expect(try await bank.search(KnowledgeQuery("expense report receipts", k: 5), rights: user).allSatisfy { $0.documentID != "policy-expenses" })

            #expect(try await bank.delete(ids: ["policy-invoices", "nope"], rights: .everything) == ["policy-invoices"])
            #expect(try await bank.search(KnowledgeQuery("supplier invoice approval", k: 5), rights: .everything).allSatisfy {
                $0.documentID != "policy-invoices"
            })
            let remaining = try await store.chunkCount()
            #expect(try await counts() == (remaining, remaining, remaining))
            #expect(try await store.document(id: "policy-invoices") == nil)
        }
    }

    @Test("an edited long document re-embeds only the passages that changed")
    func incrementalReembedding() async throws {
        try await TestStores.withStore(.sqlite) { store in
            let (bank, _) = try await Self.open(store)
            let first = try await bank.upsert([Corpus.longDocument(lastParagraph: "Appendix: the threshold is 1 million EUR.")], rights: .everything)
            #expect(first[0].chunks >= 3)
            let second = try await bank.upsert([Corpus.longDocument(lastParagraph: "Appendix: the threshold is 2 million EUR.")], rights: .everything)
            #expect(second[0].change == .updated && second[0].chunks == first[0].chunks)
            #expect(second[0].embedded >= 1 && second[0].embedded < second[0].chunks)
            let chunks = try await store.chunks(documentID: "treasury-manual")
            let body = Corpus.longDocument(lastParagraph: "Appendix: the threshold is 2 million EUR.").body as NSString
            for chunk in chunks { #expect(body.substring(with: NSRange(location: chunk.start, length: chunk.end - chunk.start)) == chunk.text) }
        }
    }

    @Test("start-up loads a current snapshot and rebuilds from stored embeddings otherwise", arguments: StoreKind.allCases)
    func restart(kind: StoreKind) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-snap-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let snapshot = directory.appendingPathComponent("index.hnsw").path
        try await TestStores.withDatabaseURL(kind) { url in
            let query = KnowledgeQuery("when are payment runs?", k: 3)
            let before: [KnowledgeHit] = try await TestStores.withReopenedStore(kind, url: url) { store in
                let (bank, _) = try await Self.open(store, snapshot: snapshot)
                _ = try await bank.upsert([Corpus.invoices, Corpus.expenses, Corpus.board], rights: .everything)
                #expect(try await bank.saveSnapshot() == snapshot)
                return try await bank.search(query, rights: .everything)
            }
            try await TestStores.withReopenedStore(kind, url: url) { (store) async throws -> Void in
                let (bank, report) = try await Self.open(store, snapshot: snapshot)
                #expect(report.indexSource == .snapshot(path: snapshot))
                #expect(try await bank.search(query, rights: .everything) == before)
                // A write the snapshot does not have: the next start-up must not trust it.
                _ = try await bank.upsert([Corpus.salaries], rights: .everything)
            }
            try await TestStores.withReopenedStore(kind, url: url) { (store) async throws -> Void in
                let (bank, report) = try await Self.open(store, snapshot: snapshot)
                guard case .rebuilt(let reason) = report.indexSource else {
                    Issue.record("expected a rebuild, got \(report.indexSource)")
                    return
                }
                #expect(reason.contains("generation"))
                #expect(bank.vectorCount == (try await store.chunkCount()) && report.documents == 4)
                try await bank.saveSnapshot()
            }
            // A corrupted snapshot is detected and rebuilt, never trusted.
            var bytes = try Data(contentsOf: URL(fileURLWithPath: snapshot))
            bytes[bytes.count - 100] ^= 0xFF
            try bytes.write(to: URL(fileURLWithPath: snapshot))
            try await TestStores.withReopenedStore(kind, url: url) { (store) async throws -> Void in
                let (bank, report) = try await Self.open(store, snapshot: snapshot)
                guard case .rebuilt(let reason) = report.indexSource else {
                    Issue.record("a corrupt snapshot was used: \(report.indexSource)")
                    return
                }
                #expect(reason.contains("unusable"))
                #expect(try await bank.search(query, rights: .everything).map(\.documentID).first == before.first?.documentID)
            }
        }
    }

    @Test("a caller never sees, nor feels in ranks or scores, what they may not see", arguments: StoreKind.allCases)
    func accessControl(kind: StoreKind) async throws {
        let user = AccessRights(userID: "u1", role: .user)
        let payroll = AccessRights(userID: "u2", role: .user, groups: ["payroll"])
        let editor = AccessRights(userID: "u3", role: .editor)
        let queries = ["approval of payments to the supplier", "salary bonus March", "EUR", "board acquisition tranches"]
        try await TestStores.withStore(kind) { store in
            let (bank, _) = try await Self.open(store)
            _ = try await bank.upsert([Corpus.invoices, Corpus.expenses, Corpus.salaries, Corpus.board], rights: .everything)
            for query in queries {
                for mode in RetrievalMode.allCases {
                    let q = KnowledgeQuery(query, k: 10, mode: mode)
                    let asUser = Set(Self.ids(try await bank.search(q, rights: user)))
                    #expect(asUser.isDisjoint(with: ["payroll-salaries", "board-minutes"]))
                    #expect(!Set(Self.ids(try await bank.search(q, rights: payroll))).contains("board-minutes"))
                    #expect(!Set(Self.ids(try await bank.search(q, rights: editor))).contains("payroll-salaries"))
                }
            }
            #expect(Self.ids(try await bank.search(KnowledgeQuery("salary bands", k: 1), rights: payroll)) == ["payroll-salaries"])
            #expect(try await bank.document(id: "payroll-salaries", rights: user) == nil)
            #expect(try await bank.document(id: "payroll-salaries", rights: payroll)?.title == "Salary bands 2026")

            // The same searches on a bank holding only what `user` may see give identical hits: same ranks, same scores.
            try await TestStores.withStore(.sqlite) { publicStore in
                let (publicBank, _) = try await Self.open(publicStore)
                _ = try await publicBank.upsert([Corpus.invoices, Corpus.expenses], rights: .everything)
                for query in queries {
                    for mode in RetrievalMode.allCases {
                        let q = KnowledgeQuery(query, k: 10, mode: mode, withText: false)
                        let restricted = try await bank.search(q, rights: user)
                        let open = try await publicBank.search(q, rights: user)
                        #expect(Self.ids(restricted) == Self.ids(open))
                        #expect(restricted.map(\.bm25Rank) == open.map(\.bm25Rank) && restricted.map(\.denseRank) == open.map(\.denseRank))
                        for (a, b) in zip(restricted, open) { #expect(abs(a.score - b.score) < 1e-6) }
                    }
                }
            }
        }
    }

    @Test("embeddings of another model are reported, turn dense search off and block writes")
    func modelMismatch() async throws {
        try await TestStores.withDatabaseURL(.sqlite) { url in
            let builtin = try TestModel.load()
            try await TestStores.withReopenedStore(.sqlite, url: url) { (store) async throws -> Void in
                let (bank, _) = try await Self.open(store, embedder: RenamedEmbedder(base: builtin, modelName: "older-model"))
                _ = try await bank.upsert([Corpus.invoices], rights: .everything)
            }
            try await TestStores.withReopenedStore(.sqlite, url: url) { (store) async throws -> Void in
                let (bank, report) = try await Self.open(store)
                let message = try #require(report.modelMismatch)
                #expect(message.contains("older-model") && message.contains("omnifin reindex"))
                await #expect(throws: KnowledgeBankError.self) { try await bank.upsert([Corpus.expenses], rights: .everything) }
                await #expect(throws: KnowledgeBankError.self) { try await bank.search(KnowledgeQuery("invoice", mode: .dense), rights: .everything) }
                // Hybrid still answers, from BM25 alone.
                #expect(Self.ids(try await bank.search(KnowledgeQuery("supplier invoice"), rights: .everything)) == ["policy-invoices"])
                // Re-embedding with the configured model puts everything right.
                let (passages, after) = try await bank.reindex()
                #expect(passages >= 1 && after.modelMismatch == nil && bank.modelMismatch == nil)
                #expect(try await store.embeddingModels().map(\.model) == [builtin.modelName])
                #expect(Self.ids(try await bank.search(KnowledgeQuery("who signs off large vendor bills", k: 1, mode: .dense), rights: .everything))
                    == ["policy-invoices"])
                #expect(try await bank.upsert([Corpus.expenses], rights: .everything).map(\.change) == [.created])
            }
        }
    }

    @Test("bad input is refused with the field at fault, and nothing is written")
    func validation() async throws {
        try await TestStores.withStore(.sqlite) { store in
            let (bank, _) = try await Self.open(store)
            let cases: [(DocumentInput, String)] = [
                (DocumentInput(title: " ", body: "\n"), "body"),
                (DocumentInput(title: String(repeating: "x", count: 1_001), body: "b"), "title"),
                (DocumentInput(title: "t", body: "b", access: AccessList(principals: ["team:x"])), "access"),
                (DocumentInput(id: "has space", title: "t", body: "b"), "id"),
                (DocumentInput(source: "", title: "t", body: "b"), "source"),
            ]
            for (input, field) in cases {
                do {
                    _ = try await bank.upsert([Corpus.expenses, input], rights: .everything)
                    Issue.record("accepted \(input)")
                } catch let error as KnowledgeBankError {
                    #expect(error.field == "documents[1].\(field)")
                    #expect(error.message.hasPrefix("document 2:"))
                }
            }
            #expect(try await store.documentCount() == 0)
            await #expect(throws: KnowledgeBankError.self) { try await bank.search(KnowledgeQuery("  "), rights: .everything) }
            await #expect(throws: KnowledgeBankError.self) { try await bank.search(KnowledgeQuery("x", k: 0), rights: .everything) }
        }
    }
}
