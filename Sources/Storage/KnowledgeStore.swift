/// One change to the knowledge bank inside a ``KnowledgeStore/write(_:)`` batch.
public enum KnowledgeWrite: Sendable {
    /// Inserts or replaces a document. With `chunks`, its chunks are replaced by these; with `nil`, the stored
    /// chunks stay (a change of title or access list that does not touch the text).
    case upsert(DocumentRecord, chunks: [NewChunk]?)
    /// Deletes a document and its chunks; a missing id is not an error.
    case delete(documentID: String)

    var documentID: String {
        switch self {
        case .upsert(let document, _): document.id
        case .delete(let id): id
        }
    }
}

/// What one write did, so the in-memory indexes can follow the store exactly.
public struct KnowledgeWriteResult: Sendable {
    public struct Outcome: Sendable {
        public var documentID: String
        /// Chunks that no longer exist (deleted, or replaced by an upsert).
        public var removedChunkIDs: [Int64]
        /// Chunks written, with their new ids.
        public var insertedChunks: [ChunkRecord]
        /// Whether the document existed before the write.
        public var existed: Bool

        public init(documentID: String, removedChunkIDs: [Int64], insertedChunks: [ChunkRecord], existed: Bool) {
            self.documentID = documentID
            self.removedChunkIDs = removedChunkIDs
            self.insertedChunks = insertedChunks
            self.existed = existed
        }
    }

    /// The store generation after the write; every write raises it by one.
    public var generation: Int64
    /// One outcome per write, in order.
    public var outcomes: [Outcome]

    public init(generation: Int64, outcomes: [Outcome]) {
        self.generation = generation
        self.outcomes = outcomes
    }
}

/// An entry of the knowledge change log, for replicas that follow the store.
public struct KnowledgeChange: Sendable, Equatable {
    public enum Operation: String, Sendable { case upsert, delete }
    public var generation: Int64
    public var documentID: String
    public var operation: Operation
}

/// How many chunks carry embeddings of one model.
public struct EmbeddingModelCount: Sendable, Equatable {
    public var model: String
    public var dimension: Int
    public var chunks: Int

    public init(model: String, dimension: Int, chunks: Int) {
        self.model = model
        self.dimension = dimension
        self.chunks = chunks
    }
}

/// The durable half of the knowledge bank: documents and their chunks with embeddings.
///
/// The store is the source of truth; indexes in memory are rebuilt from it. Every write is one transaction
/// and raises the store generation, which names the state an index snapshot was taken at.
public protocol KnowledgeStore: Sendable {
    /// Where the store lives, with any password hidden.
    var location: String { get }

    /// The generation: the number of committed knowledge writes.
    func knowledgeGeneration() async throws -> Int64

    /// Applies a batch of writes in one transaction: all or nothing.
    /// - Throws: ``StoreError/invalidArgument(_:)`` when a document appears twice in the batch,
    ///   ``StoreError/conflict(_:)`` when a `(source, externalID)` key belongs to another document.
    func write(_ writes: [KnowledgeWrite]) async throws -> KnowledgeWriteResult

    func document(id: String) async throws -> DocumentRecord?
    func document(source: String, externalID: String) async throws -> DocumentRecord?
    /// Documents in id order after `after`, at most `limit`, optionally of one source.
    func documents(after: String?, limit: Int, source: String?) async throws -> [DocumentRecord]
    func documentCount() async throws -> Int

    /// A document's chunks in ordinal order, with embeddings.
    func chunks(documentID: String) async throws -> [ChunkRecord]
    /// The chunks with these ids (any order), without embeddings: what a search result shows.
    func chunks(ids: [Int64]) async throws -> [ChunkRecord]
    /// Chunks in id order after `after`, at most `limit`: for rebuilding the indexes (the BM25 index needs
    /// only the text, the vector index the embeddings too).
    func chunks(after: Int64, limit: Int, withEmbeddings: Bool) async throws -> [ChunkRecord]
    func chunkCount() async throws -> Int
    /// Which embedding models the stored chunks carry.
    func embeddingModels() async throws -> [EmbeddingModelCount]

    /// Changes after `generation`, oldest first.
    func changes(after generation: Int64, limit: Int) async throws -> [KnowledgeChange]

    /// Calls `changed` whenever a knowledge write is committed (by any process), until the calling task is
    /// cancelled; throws when the notifications are lost (the caller reconnects and catches up with
    /// ``changes(after:limit:)``). A store that cannot notify returns at once: its followers poll.
    func followKnowledgeChanges(_ changed: @escaping @Sendable () -> Void) async throws

    /// Releases connections; the store is unusable afterwards.
    func close() async
}
