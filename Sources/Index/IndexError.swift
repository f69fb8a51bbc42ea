/// An error raised by the vector indexes: bad input, unknown ids, or a snapshot that cannot be trusted.
///
/// Match on ``code``; ``message`` says what was wrong and what to do about it. New codes can be added without
/// breaking callers.
public struct IndexError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let raw: String
        private init(_ raw: String) { self.raw = raw }
        public var description: String { raw }

        /// A vector's length differs from the index dimension.
        public static let dimensionMismatch = Code("dimension_mismatch")
        /// A vector holds NaN or an infinity.
        public static let nonFiniteComponent = Code("non_finite_component")
        /// A zero vector was given to a cosine index, where it has no direction.
        public static let zeroVector = Code("zero_vector")
        /// The id is not in the index.
        public static let unknownID = Code("unknown_id")
        /// The id is already in the index.
        public static let duplicateID = Code("duplicate_id")
        /// A search parameter (k, ef) or a construction parameter is out of range.
        public static let invalidParameter = Code("invalid_parameter")
        /// A snapshot file is truncated, corrupt, of another format version or does not match the expected index.
        public static let invalidSnapshot = Code("invalid_snapshot")
        /// Reading or writing a file failed.
        public static let io = Code("io")
        /// A vector file (.fvecs/.ivecs) is malformed.
        public static let invalidVectorFile = Code("invalid_vector_file")
    }

    public let code: Code
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    static func dimensionMismatch(expected: Int, got: Int) -> IndexError {
        IndexError(.dimensionMismatch, "vector has \(got) components but the index dimension is \(expected)")
    }

    static func invalidParameter(_ message: String) -> IndexError { IndexError(.invalidParameter, message) }

    static func invalidSnapshot(_ path: String, _ reason: String) -> IndexError {
        IndexError(.invalidSnapshot, "index snapshot \(path) cannot be used: \(reason); rebuild the index from the store")
    }
}
