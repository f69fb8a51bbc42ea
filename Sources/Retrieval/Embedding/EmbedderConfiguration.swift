public import Settings

/// Which embedder the settings ask for: `OMNIFIN_EMBEDDING_MODEL` is `builtin` (the default) or the name of a
/// model served by the OpenAI-compatible API at `OMNIFIN_LLM_BASE_URL`.
public enum EmbedderConfiguration {
    /// Builds the configured embedder.
    /// - Throws: ``EmbeddingError`` when the model files are missing or the API is not configured.
    public static func embedder(_ settings: Settings, threads: Int? = nil) throws -> any Embedder {
        let model = settings.embeddingModel
        if model == "builtin" || model == BuiltinEmbedder.name {
            return try BuiltinEmbedder(directory: BuiltinEmbedder.directory(settings), threads: threads)
        }
        guard let api = settings.llm else {
            throw EmbeddingError(
                .invalidConfiguration,
                "OMNIFIN_EMBEDDING_MODEL is '\(model)' but OMNIFIN_LLM_BASE_URL is not set: set it, or use OMNIFIN_EMBEDDING_MODEL=builtin")
        }
        return try OpenAIEmbedder(configuration: LLMAPIConfiguration(api), model: model)
    }
}
