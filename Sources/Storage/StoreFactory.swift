public import Logging

/// Opens the store a database URL names.
public enum StoreFactory {
    /// Opens and migrates the store at `url` (`sqlite:PATH` or `postgres://…`).
    /// - Throws: ``StoreError`` when the URL is invalid, the database unreachable or the migration fails.
    public static func open(url: String, logger: Logger = Logger(label: "omnifin.storage")) async throws -> any OmnifinStore {
        switch try DatabaseLocation(url: url) {
        case .sqlite(let path): return try SQLiteStore(path: path)
        case .postgres(let location): return try await PostgresStore.connect(location, logger: logger)
        }
    }
}
