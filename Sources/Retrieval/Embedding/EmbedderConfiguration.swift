public import Foundation

/// Which embedder the environment asks for: `OMNIFIN_EMBEDDING_MODEL` is `builtin` (the default) or the name
/// of a model served by the OpenAI-compatible API at `OMNIFIN_LLM_BASE_URL`.
public enum EmbedderConfiguration {
    /// Builds the configured embedder.
    /// - Throws: ``EmbeddingError`` when the model files are missing or the API is not configured.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment, threads: Int? = nil) throws
        -> any Embedder
    {
        let model = environment["OMNIFIN_EMBEDDING_MODEL"].flatMap { $0.isEmpty ? nil : $0 } ?? "builtin"
        if model == "builtin" || model == BuiltinEmbedder.name { return try BuiltinEmbedder(threads: threads) }
        guard let api = LLMAPIConfiguration.fromEnvironment(environment) else {
            throw EmbeddingError(
                .invalidConfiguration,
                "OMNIFIN_EMBEDDING_MODEL is '\(model)' but OMNIFIN_LLM_BASE_URL is not set: set it, or use OMNIFIN_EMBEDDING_MODEL=builtin")
        }
        return try OpenAIEmbedder(configuration: api, model: model)
    }
}
