/// Why a store operation failed.
///
/// A struct with static members rather than an enum, so cases can be added without breaking callers.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    private enum Internal: Sendable, Equatable {
        case invalidDatabaseURL
        case connectionFailed
        case migrationFailed
        case conflict
        case invalidArgument
        case corruptRow
        case unavailable
    }

    private let code: Internal
    /// What went wrong and what to do about it.
    public let message: String

    private init(_ code: Internal, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// `OMNIFIN_DATABASE_URL` (or `--database`) is not a URL Omnifin understands.
    public static func invalidDatabaseURL(_ message: String) -> StoreError { StoreError(.invalidDatabaseURL, message) }
    /// The database could not be reached or opened.
    public static func connectionFailed(_ message: String) -> StoreError { StoreError(.connectionFailed, message) }
    /// A schema migration failed; nothing of it was applied.
    public static func migrationFailed(_ message: String) -> StoreError { StoreError(.migrationFailed, message) }
    /// The write collides with existing data (a duplicate key, a record changed concurrently).
    public static func conflict(_ message: String) -> StoreError { StoreError(.conflict, message) }
    /// The caller passed something the store cannot hold.
    public static func invalidArgument(_ message: String) -> StoreError { StoreError(.invalidArgument, message) }
    /// A stored row could not be decoded (written by a newer or broken version).
    public static func corruptRow(_ message: String) -> StoreError { StoreError(.corruptRow, message) }
    /// The database is temporarily unavailable; retrying later may succeed.
    public static func unavailable(_ message: String) -> StoreError { StoreError(.unavailable, message) }

    /// Whether two errors are of the same kind (messages aside): `error ~= .conflict("")`.
    public func isSameKind(as other: StoreError) -> Bool { code == other.code }
}
