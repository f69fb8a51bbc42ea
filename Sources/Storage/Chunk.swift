/// A stored embedding: the packed vector with the model that made it.
public struct StoredEmbedding: Sendable, Equatable {
    public var vector: [Float]
    public var model: String
    public var dimension: Int { vector.count }

    public init(vector: [Float], model: String) {
        self.vector = vector
        self.model = model
    }
}

/// A passage of a document: what the indexes hold and what answers cite.
public struct ChunkRecord: Sendable, Equatable {
    /// Unique over the store's lifetime (never reused), and the label of the chunk in the vector index.
    public var id: Int64
    public var documentID: String
    /// Position in the document, from 0.
    public var ordinal: Int
    public var text: String
    /// UTF-16 offsets of `text` in the document body (what a browser's string indices count).
    public var start: Int
    public var end: Int
    public var tokenCount: Int
    public var contentHash: String
    public var embedding: StoredEmbedding?

    public init(
        id: Int64, documentID: String, ordinal: Int, text: String, start: Int, end: Int, tokenCount: Int, contentHash: String,
        embedding: StoredEmbedding?
    ) {
        self.id = id
        self.documentID = documentID
        self.ordinal = ordinal
        self.text = text
        self.start = start
        self.end = end
        self.tokenCount = tokenCount
        self.contentHash = contentHash
        self.embedding = embedding
    }
}

/// A chunk about to be written: the store assigns its id.
public struct NewChunk: Sendable, Equatable {
    public var ordinal: Int
    public var text: String
    public var start: Int
    public var end: Int
    public var tokenCount: Int
    public var contentHash: String
    public var embedding: StoredEmbedding

    public init(ordinal: Int, text: String, start: Int, end: Int, tokenCount: Int, contentHash: String, embedding: StoredEmbedding) {
        self.ordinal = ordinal
        self.text = text
        self.start = start
        self.end = end
        self.tokenCount = tokenCount
        self.contentHash = contentHash
        self.embedding = embedding
    }

    func record(id: Int64, documentID: String) -> ChunkRecord {
        ChunkRecord(
            id: id, documentID: documentID, ordinal: ordinal, text: text, start: start, end: end, tokenCount: tokenCount,
            contentHash: contentHash, embedding: embedding)
    }
}
