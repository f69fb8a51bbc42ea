public import Foundation
import NIOCore
import PostgresNIO

extension PostgresStore {
    private typealias DocumentColumns = (String, String, String?, String, String, String, String, String, String, Date, Date)
    private typealias ChunkColumns = (Int64, String, Int, String, Int, Int, Int, String, ByteBuffer?, String, Int)

    private static func document(_ c: DocumentColumns) throws(StoreError) -> DocumentRecord {
        guard let kind = DocumentKind(rawValue: c.5) else { throw .corruptRow("document \(c.0) has unknown kind '\(c.5)'") }
        return DocumentRecord(
            id: c.0, source: c.1, externalID: c.2, title: c.3, body: c.4, kind: kind,
            metadata: try JSONColumn.decode([String: String].self, c.6, column: "documents.metadata"),
            access: try JSONColumn.decode(AccessList.self, c.7, column: "documents.access"),
            contentHash: c.8, createdAt: c.9, updatedAt: c.10)
    }

    private static func chunk(_ c: ChunkColumns) throws(StoreError) -> ChunkRecord {
        var embedding: StoredEmbedding?
        if let bytes = c.8 {
            let vector = try bytes.withUnsafeReadableBytes { raw throws(StoreError) in try EmbeddingCoding.decode(raw, dimension: c.10) }
            embedding = StoredEmbedding(vector: vector, model: c.9)
        }
        return ChunkRecord(
            id: c.0, documentID: c.1, ordinal: c.2, text: c.3, start: c.4, end: c.5, tokenCount: c.6, contentHash: c.7, embedding: embedding)
    }

    private func documents(_ statement: PostgresQuery, operation: String = #function) async throws -> [DocumentRecord] {
        do {
            var records: [DocumentRecord] = []
            for try await row in try await query(statement, operation: operation).decode(DocumentColumns.self) {
                records.append(try PostgresStore.document(row))
            }
            return records
        } catch {
            throw PostgresStore.storeError(error)
        }
    }

    private func chunks(_ statement: PostgresQuery, operation: String = #function) async throws -> [ChunkRecord] {
        do {
            var records: [ChunkRecord] = []
            for try await row in try await query(statement, operation: operation).decode(ChunkColumns.self) {
                records.append(try PostgresStore.chunk(row))
            }
            return records
        } catch {
            throw PostgresStore.storeError(error)
        }
    }

    private func scalar<T: PostgresDecodable & Sendable>(_ statement: PostgresQuery, as type: T.Type, operation: String = #function) async throws -> T? {
        do {
            for try await value in try await query(statement, operation: operation).decode(T.self) { return value }
            return nil
        } catch {
            throw PostgresStore.storeError(error)
        }
    }

    /// The `LISTEN`/`NOTIFY` channel on which every knowledge write announces its generation.
    static let knowledgeChannel = "omnifin_knowledge"

    /// Listens on one pooled connection and calls `changed` for every knowledge write committed by anyone (this
    /// process included), until the task is cancelled; throws when the connection is lost.
    public func followKnowledgeChanges(_ changed: @escaping @Sendable () -> Void) async throws {
        let logger = logger
        do {
            try await client.withConnection { connection in
                try await connection.listen(on: Self.knowledgeChannel) { notifications in
                    changed()  // whatever was committed before the LISTEN took effect
                    for try await _ in notifications { changed() }
                }
            }
        } catch is CancellationError {
            return
        } catch {
            logger.debug("the knowledge notifications stopped: \(error)")
            throw PostgresStore.storeError(error)
        }
    }

    public func knowledgeGeneration() async throws -> Int64 {
        try await scalar("SELECT value FROM counters WHERE name = 'generation'", as: Int64.self) ?? 0
    }

    public func write(_ writes: [KnowledgeWrite]) async throws -> KnowledgeWriteResult {
        try KnowledgeWriteValidation.check(writes)
        let chunkCount = KnowledgeWriteValidation.newChunkCount(writes)
        let logger = logger
        return try await transaction { connection in
            func single(_ query: PostgresQuery) async throws -> Int64 {
                for try await value in try await connection.query(query, logger: logger).decode(Int64.self) { return value }
                throw StoreError.corruptRow("the counters table lacks a row")
            }
            let generation = try await single("UPDATE counters SET value = value + 1 WHERE name = 'generation' RETURNING value")
            var nextChunkID: Int64 = 0
            if chunkCount > 0 {
                let last = try await single(
                    "UPDATE counters SET value = value + \(Int64(chunkCount)) WHERE name = 'chunk_id' RETURNING value")
                nextChunkID = last - Int64(chunkCount) + 1
            }

            let ids = writes.map(\.documentID)
            var existing = Set<String>()
            for try await id in try await connection.query("SELECT id FROM documents WHERE id = ANY(\(ids))", logger: logger)
                .decode(String.self)
            {
                existing.insert(id)
            }

            let upserts: [(DocumentRecord, [NewChunk]?)] = writes.compactMap {
                if case .upsert(let document, let chunks) = $0 { return (document, chunks) }
                return nil
            }
            let keyed = upserts.filter { $0.0.externalID?.isEmpty == false }
            if !keyed.isEmpty {
                let rows = try await connection.query(
                    """
                    SELECT d.id, d.source, d.external_id FROM documents d
                    JOIN UNNEST(\(keyed.map(\.0.source))::text[], \(keyed.map { $0.0.externalID ?? "" })::text[], \(keyed.map(\.0.id))::text[])
                      AS k(source, external_id, id)
                      ON d.source = k.source AND d.external_id = k.external_id AND d.id <> k.id
                    LIMIT 1
                    """, logger: logger)
                for try await (other, source, externalID) in rows.decode((String, String, String).self) {
                    throw StoreError.conflict("\(source) record '\(externalID)' is already stored as document \(other)")
                }
            }

            // Chunks of replaced and deleted documents go first, so their ids can be reported.
            let chunkOwners = writes.compactMap { write -> String? in
                switch write {
                case .upsert(_, .some): write.documentID
                case .upsert(_, .none): nil
                case .delete: write.documentID
                }
            }
            var removed: [String: [Int64]] = [:]
            if !chunkOwners.isEmpty {
                for try await (id, documentID) in try await connection.query(
                    "DELETE FROM chunks WHERE document_id = ANY(\(chunkOwners)) RETURNING id, document_id", logger: logger
                ).decode((Int64, String).self) {
                    removed[documentID, default: []].append(id)
                }
            }

            if !upserts.isEmpty {
                let d = upserts.map(\.0)
                try await connection.query(
                    """
                    INSERT INTO documents (id, source, external_id, title, body, kind, metadata, access, content_hash, created_at, updated_at)
                    SELECT id, source, NULLIF(external_id, ''), title, body, kind, metadata, access, content_hash, created_at, updated_at
                    FROM UNNEST(\(d.map(\.id))::text[], \(d.map(\.source))::text[], \(d.map { $0.externalID ?? "" })::text[],
                                \(d.map(\.title))::text[], \(d.map(\.body))::text[], \(d.map(\.kind.rawValue))::text[],
                                \(d.map { JSONColumn.encode($0.metadata) })::text[], \(d.map { JSONColumn.encode($0.access) })::text[],
                                \(d.map(\.contentHash))::text[], \(d.map(\.createdAt))::timestamptz[], \(d.map(\.updatedAt))::timestamptz[])
                      AS u(id, source, external_id, title, body, kind, metadata, access, content_hash, created_at, updated_at)
                    ON CONFLICT (id) DO UPDATE SET
                      source = EXCLUDED.source, external_id = EXCLUDED.external_id, title = EXCLUDED.title, body = EXCLUDED.body,
                      kind = EXCLUDED.kind, metadata = EXCLUDED.metadata, access = EXCLUDED.access,
                      content_hash = EXCLUDED.content_hash, updated_at = EXCLUDED.updated_at
                    """, logger: logger)
            }

            var inserted: [String: [ChunkRecord]] = [:]
            var newChunks: [ChunkRecord] = []
            newChunks.reserveCapacity(chunkCount)
            for (document, chunks) in upserts {
                for chunk in chunks ?? [] {
                    let record = chunk.record(id: nextChunkID, documentID: document.id)
                    nextChunkID += 1
                    inserted[document.id, default: []].append(record)
                    newChunks.append(record)
                }
            }
            // Large batches go in slices so one statement stays well under the protocol's message size.
            for start in stride(from: 0, to: newChunks.count, by: 5_000) {
                let c = newChunks[start..<min(newChunks.count, start + 5_000)]
                let vectors = c.map { ByteBuffer(bytes: EmbeddingCoding.encode($0.embedding?.vector ?? [])) }
                try await connection.query(
                    """
                    INSERT INTO chunks (id, document_id, ordinal, text, start_offset, end_offset, token_count, content_hash,
                                        embedding, embedding_model, embedding_dimension)
                    SELECT * FROM UNNEST(\(c.map(\.id))::bigint[], \(c.map(\.documentID))::text[], \(c.map { Int32($0.ordinal) })::int4[],
                                         \(c.map(\.text))::text[], \(c.map { Int32($0.start) })::int4[], \(c.map { Int32($0.end) })::int4[],
                                         \(c.map { Int32($0.tokenCount) })::int4[], \(c.map(\.contentHash))::text[], \(vectors)::bytea[],
                                         \(c.map { $0.embedding?.model ?? "" })::text[], \(c.map { Int32($0.embedding?.dimension ?? 0) })::int4[])
                    """, logger: logger)
            }

            let deletes = writes.compactMap { write -> String? in
                if case .delete(let id) = write { return id }
                return nil
            }
            if !deletes.isEmpty {
                try await connection.query("DELETE FROM documents WHERE id = ANY(\(deletes))", logger: logger)
            }
            try await connection.query(
                """
                INSERT INTO knowledge_changes (generation, document_id, operation, changed_at)
                SELECT \(generation), document_id, operation, now() FROM UNNEST(\(ids)::text[], \(writes.map(\.operation.rawValue))::text[])
                  AS c(document_id, operation)
                """, logger: logger)
            // Delivered at commit to every replica listening (see followKnowledgeChanges).
            try await connection.query("SELECT pg_notify(\(PostgresStore.knowledgeChannel), \(String(generation)))", logger: logger)

            let outcomes = writes.map { write in
                KnowledgeWriteResult.Outcome(
                    documentID: write.documentID, removedChunkIDs: removed[write.documentID] ?? [],
                    insertedChunks: inserted[write.documentID] ?? [], existed: existing.contains(write.documentID))
            }
            return KnowledgeWriteResult(generation: generation, outcomes: outcomes)
        }
    }


    public func document(id: String) async throws -> DocumentRecord? {
        try await documents(
            "SELECT id, source, external_id, title, body, kind, metadata, access, content_hash, created_at, updated_at FROM documents WHERE id = \(id)"
        ).first
    }

    public func document(source: String, externalID: String) async throws -> DocumentRecord? {
        try await documents(
            """
            SELECT id, source, external_id, title, body, kind, metadata, access, content_hash, created_at, updated_at FROM documents
            WHERE source = \(source) AND external_id = \(externalID)
            """
        ).first
    }

    public func documents(after: String?, limit: Int, source: String?) async throws -> [DocumentRecord] {
        try await documents(
            """
            SELECT id, source, external_id, title, body, kind, metadata, access, content_hash, created_at, updated_at FROM documents
            WHERE id > \(after ?? "") AND (\(source)::text IS NULL OR source = \(source))
            ORDER BY id LIMIT \(max(0, limit))
            """)
    }

    public func documentCount() async throws -> Int {
        try await scalar("SELECT COUNT(*) FROM documents", as: Int.self) ?? 0
    }

    public func chunks(documentID: String) async throws -> [ChunkRecord] {
        try await chunks(
            """
            SELECT id, document_id, ordinal, text, start_offset, end_offset, token_count, content_hash, embedding, embedding_model,
                   embedding_dimension FROM chunks WHERE document_id = \(documentID) ORDER BY ordinal
            """)
    }

    public func chunks(ids: [Int64]) async throws -> [ChunkRecord] {
        guard !ids.isEmpty else { return [] }
        return try await chunks(
            """
            SELECT id, document_id, ordinal, text, start_offset, end_offset, token_count, content_hash, NULL::bytea, embedding_model,
                   embedding_dimension FROM chunks WHERE id = ANY(\(ids))
            """)
    }

    public func chunks(after: Int64, limit: Int, withEmbeddings: Bool) async throws -> [ChunkRecord] {
        try await chunks(
            """
            SELECT id, document_id, ordinal, text, start_offset, end_offset, token_count, content_hash,
                   CASE WHEN \(withEmbeddings) THEN embedding END, embedding_model, embedding_dimension
            FROM chunks WHERE id > \(after) ORDER BY id LIMIT \(max(0, limit))
            """)
    }

    public func chunkCount() async throws -> Int {
        try await scalar("SELECT COUNT(*) FROM chunks", as: Int.self) ?? 0
    }

    public func embeddingModels() async throws -> [EmbeddingModelCount] {
        do {
            var models: [EmbeddingModelCount] = []
            let rows = try await query(
                """
                SELECT embedding_model, embedding_dimension, COUNT(*) FROM chunks
                GROUP BY embedding_model, embedding_dimension ORDER BY COUNT(*) DESC, embedding_model
                """)
            for try await (model, dimension, count) in rows.decode((String, Int, Int).self) {
                models.append(EmbeddingModelCount(model: model, dimension: dimension, chunks: count))
            }
            return models
        } catch {
            throw PostgresStore.storeError(error)
        }
    }

    public func changes(after generation: Int64, limit: Int) async throws -> [KnowledgeChange] {
        do {
            var changes: [KnowledgeChange] = []
            let rows = try await query(
                """
                SELECT generation, document_id, operation FROM knowledge_changes WHERE generation > \(generation)
                ORDER BY generation, document_id LIMIT \(max(0, limit))
                """)
            for try await (generation, documentID, operation) in rows.decode((Int64, String, String).self) {
                guard let op = KnowledgeChange.Operation(rawValue: operation) else {
                    throw StoreError.corruptRow("knowledge change with unknown operation '\(operation)'")
                }
                changes.append(KnowledgeChange(generation: generation, documentID: documentID, operation: op))
            }
            return changes
        } catch {
            throw PostgresStore.storeError(error)
        }
    }
}
