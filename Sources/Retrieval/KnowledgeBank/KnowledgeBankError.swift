/// Why the knowledge bank refused or failed a request.
public struct KnowledgeBankError: Error, Sendable, CustomStringConvertible {
    private enum Internal: Sendable, Equatable {
        case invalidInput, tooLarge, notFound, modelMismatch, embeddingFailed, indexFailed
    }

    private let code: Internal
    /// What was wrong and what to do.
    public let message: String
    /// The input field at fault, when there is one (for the API's `field`).
    public let field: String?

    private init(_ code: Internal, _ message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String { message }

    public static func invalidInput(_ message: String, field: String? = nil) -> Self { Self(.invalidInput, message, field: field) }
    /// A document larger than the knowledge bank's per-document limit.
    public static func tooLarge(_ message: String, field: String? = nil) -> Self { Self(.tooLarge, message, field: field) }
    public static func notFound(_ message: String) -> Self { Self(.notFound, message) }
    /// The stored embeddings come from another model than the configured embedder.
    public static func modelMismatch(_ message: String) -> Self { Self(.modelMismatch, message) }
    public static func embeddingFailed(_ message: String) -> Self { Self(.embeddingFailed, message) }
    public static func indexFailed(_ message: String) -> Self { Self(.indexFailed, message) }

    /// Whether two errors are of the same kind, messages aside.
    public func isSameKind(as other: Self) -> Bool { code == other.code }
}
