/// An embedding failed: a missing or corrupt model, an unusable input, or an embeddings API that refused.
///
/// Match on ``code``; ``message`` says what to do.
public struct EmbeddingError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let raw: String
        private init(_ raw: String) { self.raw = raw }
        public var description: String { raw }

        /// The built-in model's files are not where they should be.
        public static let modelMissing = Code("model_missing")
        /// The model files exist but cannot be used (bad checksum, header, shapes).
        public static let modelCorrupt = Code("model_corrupt")
        /// The embeddings API rejected the request (bad key, unknown model, bad input): a setting needs fixing.
        public static let apiRejected = Code("api_rejected")
        /// The embeddings API failed or timed out after every retry.
        public static let apiUnavailable = Code("api_unavailable")
        /// The embeddings API answered something that is not a valid embeddings response.
        public static let apiInvalidResponse = Code("api_invalid_response")
        /// A configuration value is unusable.
        public static let invalidConfiguration = Code("invalid_configuration")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    static let fixCommand = "run `make model` (or `scripts/fetch-model.sh`) to fetch and check it"

    static func modelMissing(_ what: String) -> EmbeddingError {
        EmbeddingError(.modelMissing, "the built-in embedding model is missing: \(what); \(fixCommand)")
    }

    static func modelCorrupt(_ what: String) -> EmbeddingError {
        EmbeddingError(.modelCorrupt, "the built-in embedding model is unusable: \(what); \(fixCommand)")
    }
}
