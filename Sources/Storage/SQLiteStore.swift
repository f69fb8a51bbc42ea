public import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode, through GRDB.
///
/// The default of `make run` (`sqlite:var/omnifin.db`). One writer at a time, readers in parallel beside it.
public final class SQLiteStore: KnowledgeStore {
    let writer: any DatabaseWriter
    public let location: String

    /// Opens (creating if needed) the database at `path` and migrates it; `:memory:` opens a private in-memory one.
    /// - Throws: ``StoreError/connectionFailed(_:)`` or ``StoreError/migrationFailed(_:)``.
    public init(path: String) throws(StoreError) {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(30)
        configuration.label = "omnifin"
        location = "sqlite:\(path)"
        do {
            if path == ":memory:" {
                writer = try DatabaseQueue(configuration: configuration)
            } else {
                let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                writer = try DatabasePool(path: path, configuration: configuration)
            }
        } catch {
            throw .connectionFailed("cannot open the SQLite database \(path): \(error)")
        }
        try migrate()
    }

    private func migrate() throws(StoreError) {
        var migrator = DatabaseMigrator()
        for migration in Schema.migrations {
            migrator.registerMigration(migration.name) { db in
                for statement in migration.sqlite { try db.execute(sql: statement) }
            }
        }
        do {
            try migrator.migrate(writer)
        } catch {
            throw .migrationFailed("migrating \(location) failed: \(error)")
        }
    }

    /// The names of the applied migrations, oldest first.
    public func appliedMigrations() throws -> [String] {
        try writer.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid") }
    }

    public func close() async {
        try? writer.close()
    }

    /// Runs `body` in a write transaction, turning SQLite's errors into ``StoreError``s.
    func writeTransaction<T: Sendable>(_ operation: String = #function, _ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do {
            return try await StoreMetrics.timed("sqlite", operation) { try await writer.write(body) }
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw StoreError.conflict("the write collides with stored data: \(error.message ?? "\(error)")")
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
            throw StoreError.unavailable("the SQLite database stayed locked: \(error.message ?? "\(error)")")
        }
    }

    func read<T: Sendable>(_ operation: String = #function, _ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        try await StoreMetrics.timed("sqlite", operation) { try await writer.read(body) }
    }
}
