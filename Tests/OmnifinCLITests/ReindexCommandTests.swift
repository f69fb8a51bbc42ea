import Foundation
import Retrieval
import Storage
import Testing

@Suite("omnifin reindex")
struct ReindexCommandTests {
    struct OtherModel: Embedder {
        let modelName = "retired-model"
        let dimension: Int? = 384
        func embed(_ texts: [String]) async throws -> [[Float]] {
            texts.map { text in (0..<384).map { Float((text.count + $0) % 7) / 7 } }
        }
    }

    @Test("re-embeds passages of another model with the built-in one and writes the snapshot")
    func reembeds() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-reindex-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = "sqlite:" + directory.appendingPathComponent("omnifin.db").path
        let snapshot = directory.appendingPathComponent("index.hnsw").path
        let old = OtherModel()
        let store = try await StoreFactory.open(url: database)
        let (bank, _) = try await KnowledgeBank.open(store: store, embedder: old, chunker: KnowledgeBank.defaultChunker(for: old))
        _ = try await bank.upsert([
            DocumentInput(title: "Invoice approval", body: "Invoices above 10,000 EUR need a second approval."),
            DocumentInput(title: "Expenses", body: "Expense reports are due within 30 days."),
        ], rights: .everything)
        await store.close()

        let result = try CLI.run(["reindex", "--database", database, "--snapshot", snapshot])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.error.contains("retired-model") && result.output.contains("re-embedded 2 passages with all-MiniLM-L6-v2"))
        #expect(FileManager.default.fileExists(atPath: snapshot))
        let reopened = try await StoreFactory.open(url: database)
        #expect(try await reopened.embeddingModels().map(\.model) == ["all-MiniLM-L6-v2"])
        await reopened.close()

        let bad = try CLI.run(["reindex", "--database", "mysql://x@y/z"])
        #expect(bad.status != 0 && bad.error.contains("not a database URL"))
    }
}
