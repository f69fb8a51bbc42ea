/// Turns texts into vectors for the knowledge bank.
///
/// Two implementations: ``BuiltinEmbedder`` (all-MiniLM-L6-v2 in process, the default) and ``OpenAIEmbedder``
/// (an OpenAI-compatible `/v1/embeddings` API).
public protocol Embedder: Sendable {
    /// The name stored with every embedding, so a change of model is noticed and the bank re-embedded.
    var modelName: String { get }
    /// The vector length, or `nil` while it is not known yet (an API model before its first answer).
    var dimension: Int? { get }
    /// Embeds `texts`, one L2-normalised vector per text, in input order.
    func embed(_ texts: [String]) async throws -> [[Float]]
}
