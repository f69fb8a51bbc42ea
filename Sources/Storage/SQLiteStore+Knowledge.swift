public import Foundation
import GRDB

struct SQLiteDocumentRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "documents"

    enum Columns {
        static let id = Column("id")
        static let source = Column("source")
        static let externalID = Column("external_id")
    }

    enum CodingKeys: String, CodingKey {
        case id, source, title, body, kind, metadata, access
        case externalID = "external_id"
        case contentHash = "content_hash"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    var id: String
    var source: String
    var externalID: String?
    var title: String
    var body: String
    var kind: String
    var metadata: String
    var access: String
    var contentHash: String
    var createdAt: Date
    var updatedAt: Date

    init(_ document: DocumentRecord) {
        id = document.id
        source = document.source
        externalID = document.externalID
        title = document.title
        body = document.body
        kind = document.kind.rawValue
        metadata = JSONColumn.encode(document.metadata)
        access = JSONColumn.encode(document.access)
        contentHash = document.contentHash
        createdAt = document.createdAt
        updatedAt = document.updatedAt
    }

    func record() throws(StoreError) -> DocumentRecord {
        guard let kind = DocumentKind(rawValue: kind) else { throw .corruptRow("document \(id) has unknown kind '\(kind)'") }
        return DocumentRecord(
            id: id, source: source, externalID: externalID, title: title, body: body, kind: kind,
            metadata: try JSONColumn.decode([String: String].self, metadata, column: "documents.metadata"),
            access: try JSONColumn.decode(AccessList.self, access, column: "documents.access"),
            contentHash: contentHash, createdAt: createdAt, updatedAt: updatedAt)
    }
}

struct SQLiteChunkRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "chunks"

    enum Columns {
        static let id = Column("id")
        static let documentID = Column("document_id")
        static let ordinal = Column("ordinal")
    }

    enum CodingKeys: String, CodingKey {
        case id, ordinal, text, embedding
        case documentID = "document_id"
        case start = "start_offset"
        case end = "end_offset"
        case tokenCount = "token_count"
        case contentHash = "content_hash"
        case embeddingModel = "embedding_model"
        case embeddingDimension = "embedding_dimension"
    }

    var id: Int64
    var documentID: String
    var ordinal: Int
    var text: String
    var start: Int
    var end: Int
    var tokenCount: Int
    var contentHash: String
    var embedding: Data
    var embeddingModel: String
    var embeddingDimension: Int

    init(_ chunk: NewChunk, id: Int64, documentID: String) {
        self.id = id
        self.documentID = documentID
        ordinal = chunk.ordinal
        text = chunk.text
        start = chunk.start
        end = chunk.end
        tokenCount = chunk.tokenCount
        contentHash = chunk.contentHash
        embedding = EmbeddingCoding.encode(chunk.embedding.vector)
        embeddingModel = chunk.embedding.model
        embeddingDimension = chunk.embedding.vector.count
    }

    func record(withEmbedding: Bool) throws(StoreError) -> ChunkRecord {
        ChunkRecord(
            id: id, documentID: documentID, ordinal: ordinal, text: text, start: start, end: end, tokenCount: tokenCount,
            contentHash: contentHash,
            embedding: withEmbedding
                ? StoredEmbedding(vector: try EmbeddingCoding.decode(embedding, dimension: embeddingDimension), model: embeddingModel)
                : nil)
    }
}

extension SQLiteStore {
    /// SQLite has no notifications: followers poll ``changes(after:limit:)``.
    public func followKnowledgeChanges(_ changed: @escaping @Sendable () -> Void) async throws {}

    public func knowledgeGeneration() async throws -> Int64 {
        try await read { db in try Int64.fetchOne(db, sql: "SELECT value FROM counters WHERE name = 'generation'") ?? 0 }
    }

    public func write(_ writes: [KnowledgeWrite]) async throws -> KnowledgeWriteResult {
        try KnowledgeWriteValidation.check(writes)
        let chunkCount = KnowledgeWriteValidation.newChunkCount(writes)
        return try await writeTransaction { db in
            let generation = try Int64.fetchOne(
                db, sql: "UPDATE counters SET value = value + 1 WHERE name = 'generation' RETURNING value")!
            var nextChunkID: Int64 = 0
            if chunkCount > 0 {
                let last = try Int64.fetchOne(
                    db, sql: "UPDATE counters SET value = value + ? WHERE name = 'chunk_id' RETURNING value", arguments: [chunkCount])!
                nextChunkID = last - Int64(chunkCount) + 1
            }
            let now = Date()
            var outcomes: [KnowledgeWriteResult.Outcome] = []
            for write in writes {
                var outcome = KnowledgeWriteResult.Outcome(documentID: write.documentID, removedChunkIDs: [], insertedChunks: [], existed: false)
                outcome.existed = try SQLiteDocumentRow.exists(db, key: write.documentID)
                switch write {
                case .upsert(let document, let chunks):
                    if let externalID = document.externalID,
                        let other = try String.fetchOne(
                            db, sql: "SELECT id FROM documents WHERE source = ? AND external_id = ? AND id <> ?",
                            arguments: [document.source, externalID, document.id])
                    {
                        throw StoreError.conflict(
                            "\(document.source) record '\(externalID)' is already stored as document \(other)")
                    }
                    try SQLiteDocumentRow(document).upsert(db)
                    if let chunks {
                        outcome.removedChunkIDs = try Int64.fetchAll(
                            db, sql: "DELETE FROM chunks WHERE document_id = ? RETURNING id", arguments: [document.id])
                        for chunk in chunks {
                            try SQLiteChunkRow(chunk, id: nextChunkID, documentID: document.id).insert(db)
                            outcome.insertedChunks.append(chunk.record(id: nextChunkID, documentID: document.id))
                            nextChunkID += 1
                        }
                    }
                case .delete(let id):
                    outcome.removedChunkIDs = try Int64.fetchAll(
                        db, sql: "DELETE FROM chunks WHERE document_id = ? RETURNING id", arguments: [id])
                    try db.execute(sql: "DELETE FROM documents WHERE id = ?", arguments: [id])
                }
                try db.execute(
                    sql: "INSERT INTO knowledge_changes (generation, document_id, operation, changed_at) VALUES (?, ?, ?, ?)",
                    arguments: [generation, write.documentID, write.operation.rawValue, now])
                outcomes.append(outcome)
            }
            return KnowledgeWriteResult(generation: generation, outcomes: outcomes)
        }
    }

    public func document(id: String) async throws -> DocumentRecord? {
        try await read { db in try SQLiteDocumentRow.fetchOne(db, key: id)?.record() }
    }

    public func document(source: String, externalID: String) async throws -> DocumentRecord? {
        try await read { db in
            try SQLiteDocumentRow.filter(SQLiteDocumentRow.Columns.source == source && SQLiteDocumentRow.Columns.externalID == externalID)
                .fetchOne(db)?.record()
        }
    }

    public func documents(after: String?, limit: Int, source: String?) async throws -> [DocumentRecord] {
        try await read { db in
            var request = SQLiteDocumentRow.order(SQLiteDocumentRow.Columns.id).limit(max(0, limit))
            if let after { request = request.filter(SQLiteDocumentRow.Columns.id > after) }
            if let source { request = request.filter(SQLiteDocumentRow.Columns.source == source) }
            return try request.fetchAll(db).map { row throws(StoreError) in try row.record() }
        }
    }

    public func documentCount() async throws -> Int {
        try await read { db in try SQLiteDocumentRow.fetchCount(db) }
    }

    public func chunks(documentID: String) async throws -> [ChunkRecord] {
        try await read { db in
            try SQLiteChunkRow.filter(SQLiteChunkRow.Columns.documentID == documentID).order(SQLiteChunkRow.Columns.ordinal)
                .fetchAll(db).map { row throws(StoreError) in try row.record(withEmbedding: true) }
        }
    }

    public func chunks(ids: [Int64]) async throws -> [ChunkRecord] {
        guard !ids.isEmpty else { return [] }
        return try await read { db in
            var records: [ChunkRecord] = []
            // SQLite caps the number of bound values per statement; ask in slices.
            for start in stride(from: 0, to: ids.count, by: 10_000) {
                let slice = Array(ids[start..<min(ids.count, start + 10_000)])
                records += try SQLiteChunkRow.filter(slice.contains(SQLiteChunkRow.Columns.id)).fetchAll(db)
                    .map { row throws(StoreError) in try row.record(withEmbedding: false) }
            }
            return records
        }
    }

    public func chunks(after: Int64, limit: Int, withEmbeddings: Bool) async throws -> [ChunkRecord] {
        try await read { db in
            try SQLiteChunkRow.filter(SQLiteChunkRow.Columns.id > after).order(SQLiteChunkRow.Columns.id).limit(max(0, limit))
                .fetchAll(db).map { row throws(StoreError) in try row.record(withEmbedding: withEmbeddings) }
        }
    }

    public func chunkCount() async throws -> Int {
        try await read { db in try SQLiteChunkRow.fetchCount(db) }
    }

    public func embeddingModels() async throws -> [EmbeddingModelCount] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT embedding_model, embedding_dimension, COUNT(*) FROM chunks
                    GROUP BY embedding_model, embedding_dimension ORDER BY COUNT(*) DESC, embedding_model
                    """
            ).map { row in EmbeddingModelCount(model: row[0], dimension: row[1], chunks: row[2]) }
        }
    }

    public func changes(after generation: Int64, limit: Int) async throws -> [KnowledgeChange] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT generation, document_id, operation FROM knowledge_changes WHERE generation > ? ORDER BY generation, document_id LIMIT ?",
                arguments: [generation, max(0, limit)]
            ).map { row throws(StoreError) in
                let operation: String = row[2]
                guard let op = KnowledgeChange.Operation(rawValue: operation) else {
                    throw .corruptRow("knowledge change with unknown operation '\(operation)'")
                }
                return KnowledgeChange(generation: row[0], documentID: row[1], operation: op)
            }
        }
    }
}
