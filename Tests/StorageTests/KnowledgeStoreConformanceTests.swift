import Foundation
import Storage
import StoreTesting
import Testing

/// One suite, both databases: every behaviour of ``KnowledgeStore`` must be the same on SQLite and PostgreSQL.
@Suite("KnowledgeStore conformance")
struct KnowledgeStoreConformanceTests {
    static let now = Date(timeIntervalSince1970: 1_790_000_000.125)

    static func document(_ id: String, source: String = "manual", externalID: String? = nil, title: String = "Title", body: String = "Body",
                         access: AccessList = .everyone) -> DocumentRecord {
        DocumentRecord(
            id: id, source: source, externalID: externalID, title: title, body: body, kind: .text, metadata: ["owner": "finance", "é": "ü"],
            access: access, contentHash: "hash-\(id)-\(body.count)", createdAt: now, updatedAt: now)
    }

    static func chunks(_ count: Int, seed: Float = 1, dimension: Int = 8, model: String = "test-model") -> [NewChunk] {
        (0..<count).map { i in
            NewChunk(
                ordinal: i, text: "passage \(i) ✓", start: i * 10, end: i * 10 + 9, tokenCount: 5 + i, contentHash: "c\(i)",
                embedding: StoredEmbedding(vector: (0..<dimension).map { Float($0) * seed + Float(i) / 3 - 0.1 }, model: model))
        }
    }

    @Test("a written document and its chunks read back exactly", arguments: StoreKind.allCases)
    func roundTrip(kind: StoreKind) async throws {
        try await TestStores.withStore(kind) { store in
            #expect(try await store.knowledgeGeneration() == 0)
            let doc = Self.document("d1", externalID: "Account/001", access: AccessList(principals: ["role:editor", "group:ap"]))
            let result = try await store.write([.upsert(doc, chunks: Self.chunks(3))])
            #expect(result.generation == 1)
            #expect(result.outcomes.count == 1 && result.outcomes[0].existed == false)
            let ids = result.outcomes[0].insertedChunks.map(\.id)
            #expect(ids.count == 3 && Set(ids).count == 3 && ids == ids.sorted())

            let read = try #require(try await store.document(id: "d1"))
            #expect(read == doc)
            #expect(try await store.document(source: "manual", externalID: "Account/001") == doc)
            #expect(try await store.document(id: "missing") == nil)

            let chunks = try await store.chunks(documentID: "d1")
            #expect(chunks == result.outcomes[0].insertedChunks)
            #expect(chunks.map(\.embedding?.vector) == Self.chunks(3).map(\.embedding.vector))
            let withoutVectors = try await store.chunks(ids: [ids[2], ids[0], 999_999])
            #expect(Set(withoutVectors.map(\.id)) == [ids[0], ids[2]])
            #expect(withoutVectors.allSatisfy { $0.embedding == nil && $0.text.hasPrefix("passage") })
            #expect(try await store.embeddingModels() == [EmbeddingModelCount(model: "test-model", dimension: 8, chunks: 3)])
        }
    }

    @Test("re-writing a document replaces its chunks; ids are never reused", arguments: StoreKind.allCases)
    func replaceAndDelete(kind: StoreKind) async throws {
        try await TestStores.withStore(kind) { store in
            let first = try await store.write([.upsert(Self.document("d1"), chunks: Self.chunks(2))])
            let firstIDs = first.outcomes[0].insertedChunks.map(\.id)

            var renamed = Self.document("d1", title: "Renamed")
            renamed.updatedAt = Self.now.addingTimeInterval(60)
            let metadataOnly = try await store.write([.upsert(renamed, chunks: nil)])
            #expect(metadataOnly.outcomes[0].existed && metadataOnly.outcomes[0].removedChunkIDs.isEmpty)
            #expect(try await store.chunks(documentID: "d1").map(\.id) == firstIDs)
            #expect(try await store.document(id: "d1")?.title == "Renamed")
            #expect(try await store.document(id: "d1")?.createdAt == Self.now)

            let replaced = try await store.write([.upsert(Self.document("d1", body: "new body"), chunks: Self.chunks(3, seed: 2))])
            #expect(Set(replaced.outcomes[0].removedChunkIDs) == Set(firstIDs))
            let newIDs = replaced.outcomes[0].insertedChunks.map(\.id)
            #expect(newIDs.allSatisfy { $0 > firstIDs.max()! })
            #expect(try await store.chunks(documentID: "d1").map(\.id) == newIDs)

            let deleted = try await store.write([.delete(documentID: "d1"), .delete(documentID: "never-existed")])
            #expect(Set(deleted.outcomes[0].removedChunkIDs) == Set(newIDs))
            #expect(deleted.outcomes[0].existed && !deleted.outcomes[1].existed)
            #expect(try await store.document(id: "d1") == nil)
            #expect(try await store.chunkCount() == 0)
            #expect(try await store.knowledgeGeneration() == 4)

            let again = try await store.write([.upsert(Self.document("d1"), chunks: Self.chunks(1))])
            #expect(again.outcomes[0].insertedChunks[0].id > newIDs.max()!)
            let changes = try await store.changes(after: 1, limit: 100)
            #expect(changes.map(\.generation) == [2, 3, 4, 4, 5])
            #expect(changes.map(\.operation) == [.upsert, .upsert, .delete, .delete, .upsert])
        }
    }

    @Test("a failing batch writes nothing", arguments: StoreKind.allCases)
    func atomicBatches(kind: StoreKind) async throws {
        try await TestStores.withStore(kind) { store in
            _ = try await store.write([.upsert(Self.document("a", source: "salesforce", externalID: "001"), chunks: Self.chunks(1))])
            await #expect(throws: StoreError.self) {
                try await store.write([
                    .upsert(Self.document("b"), chunks: Self.chunks(2)),
                    .upsert(Self.document("c", source: "salesforce", externalID: "001"), chunks: Self.chunks(1)),
                ])
            }
            #expect(try await store.document(id: "b") == nil)
            #expect(try await store.chunkCount() == 1)
            #expect(try await store.knowledgeGeneration() == 1)

            do {
                _ = try await store.write([.upsert(Self.document("x"), chunks: nil), .delete(documentID: "x")])
                Issue.record("a batch naming one document twice must be refused")
            } catch let error as StoreError {
                #expect(error.isSameKind(as: .invalidArgument("")))
                #expect(error.message.contains("appears twice"))
            }
            var mixed = Self.chunks(2)
            mixed[1].embedding.vector.append(1)
            await #expect(throws: StoreError.self) { try await store.write([.upsert(Self.document("y"), chunks: mixed)]) }
            await #expect(throws: StoreError.self) {
                try await store.write([.upsert(Self.document("z", access: AccessList(principals: ["team:x"])), chunks: nil)])
            }
        }
    }

    @Test("large batches and paging", arguments: StoreKind.allCases)
    func bulkAndPaging(kind: StoreKind) async throws {
        try await TestStores.withStore(kind) { store in
            let writes: [KnowledgeWrite] = (0..<600).map { i in
                .upsert(Self.document(String(format: "doc-%04d", i), source: i % 2 == 0 ? "even" : "odd"), chunks: Self.chunks(12, dimension: 384))
            }
            let result = try await store.write(writes)
            #expect(result.outcomes.reduce(0) { $0 + $1.insertedChunks.count } == 7_200)
            #expect(try await store.documentCount() == 600)
            #expect(try await store.chunkCount() == 7_200)

            var seen: [String] = []
            var cursor: String?
            while true {
                let page = try await store.documents(after: cursor, limit: 250, source: "odd")
                if page.isEmpty { break }
                seen += page.map(\.id)
                cursor = page.last?.id
            }
            #expect(seen.count == 300 && seen == seen.sorted() && seen.allSatisfy { Int($0.suffix(4))! % 2 == 1 })

            var chunkIDs: [Int64] = []
            var after: Int64 = 0
            while true {
                let page = try await store.chunks(after: after, limit: 1_000, withEmbeddings: true)
                if page.isEmpty { break }
                #expect(page.allSatisfy { $0.embedding?.dimension == 384 })
                chunkIDs += page.map(\.id)
                after = page.last!.id
            }
            #expect(chunkIDs.count == 7_200 && Set(chunkIDs).count == 7_200 && chunkIDs == chunkIDs.sorted())
        }
    }

    @Test("data survives closing and reopening the store", arguments: StoreKind.allCases)
    func durability(kind: StoreKind) async throws {
        try await TestStores.withDatabaseURL(kind) { url in
            let written = try await TestStores.withReopenedStore(kind, url: url) { store in
                try await store.write([.upsert(Self.document("kept"), chunks: Self.chunks(2))])
            }
            try await TestStores.withReopenedStore(kind, url: url) { (store) async throws -> Void in
                #expect(try await store.knowledgeGeneration() == written.generation)
                #expect(try await store.chunks(documentID: "kept") == written.outcomes[0].insertedChunks)
                // Migrations are applied once; opening again changes nothing.
                #expect(try await store.documentCount() == 1)
            }
        }
    }
}
