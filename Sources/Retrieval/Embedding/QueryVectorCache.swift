/// Where the vectors of search queries are remembered, so that a repeated question costs no embedding: this
/// process's memory (``EmbeddingCache``), or a cache every replica shares (the server's Redis cache).
public protocol QueryVectorCache: Sendable {
    func vector(model: String, text: String) async -> [Float]?
    func remember(_ vector: [Float], model: String, text: String) async
}

extension EmbeddingCache: QueryVectorCache {
    public func remember(_ vector: [Float], model: String, text: String) async { insert(vector, model: model, text: text) }
}
