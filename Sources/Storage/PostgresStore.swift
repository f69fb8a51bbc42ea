public import Logging
import NIOCore
import PostgresNIO

/// The production store: PostgreSQL through postgres-nio's pooled `PostgresClient`.
///
/// Every statement is an interpolated `PostgresQuery` (values travel as bind parameters); bulk writes send
/// whole batches as arrays through `UNNEST`, so a batch costs a handful of round trips whatever its size.
public final class PostgresStore: KnowledgeStore {
    let client: PostgresClient
    let logger: Logger
    /// Where the server is, for the tools that connect on their own (`pg_dump` in backups).
    let server: DatabaseLocation.PostgresLocation
    private let runTask: Task<Void, Never>
    public let location: String

    /// An advisory-lock key that serialises migrations when several replicas start at once.
    private static let migrationLockKey: Int64 = 0x6f6d_6e69_6669_6e00

    /// Connects, checks the server answers, and migrates the schema.
    /// - Throws: ``StoreError/connectionFailed(_:)`` when the server cannot be reached in the location's timeout,
    ///   ``StoreError/migrationFailed(_:)``.
    public static func connect(
        _ location: DatabaseLocation.PostgresLocation, maximumConnections: Int = 10, logger: Logger = Logger(label: "omnifin.storage")
    ) async throws -> PostgresStore {
        let timeout = location.timeout
        let tls: PostgresClient.Configuration.TLS =
            switch location.tls {
            case .disable: .disable
            case .prefer: .prefer(.makeClientConfiguration())
            case .require: .require(.makeClientConfiguration())
            }
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password,
            database: location.database, tls: tls)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = timeout
        let description = DatabaseLocation.postgres(location).description
        let store = PostgresStore(
            client: PostgresClient(configuration: configuration, backgroundLogger: logger), logger: logger, location: description, server: location)
        do {
            try await store.withDeadline { try await store.client.query("SELECT 1", logger: logger) }
        } catch {
            await store.close()
            throw StoreError.connectionFailed("cannot reach PostgreSQL at \(description): \(PostgresStore.describe(error))")
        }
        do {
            try await store.migrate()
        } catch {
            await store.close()
            throw error
        }
        return store
    }

    private init(client: PostgresClient, logger: Logger, location: String, server: DatabaseLocation.PostgresLocation) {
        self.client = client
        self.logger = logger
        self.location = location
        self.server = server
        runTask = Task { await client.run() }
    }

    public func close() async {
        runTask.cancel()
        await runTask.value
    }

    private func migrate() async throws {
        do {
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresStore.migrationLockKey))", logger: logger)
                try await connection.query(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                    logger: logger)
                var applied = Set<String>()
                for try await name in try await connection.query("SELECT name FROM schema_migrations", logger: logger).decode(String.self) {
                    applied.insert(name)
                }
                for migration in Schema.migrations where !applied.contains(migration.name) {
                    for statement in migration.postgres {
                        // Schema text is a compile-time constant of ours, never user input.
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.query("INSERT INTO schema_migrations (name) VALUES (\(migration.name))", logger: logger)
                    logger.info("applied migration \(migration.name)")
                }
            }
        } catch {
            throw StoreError.migrationFailed("migrating \(location) failed: \(PostgresStore.describe(error))")
        }
    }

    /// The names of the applied migrations, in name order.
    public func appliedMigrations() async throws -> [String] {
        var names: [String] = []
        for try await name in try await client.query("SELECT name FROM schema_migrations ORDER BY name", logger: logger).decode(String.self) {
            names.append(name)
        }
        return names
    }

    /// Runs `body`, or throws ``StoreError/unavailable(_:)`` once the location's timeout has passed.
    ///
    /// The caller is answered at the deadline even when `body` does not react to cancellation (a request waiting
    /// for a connection to a server that is down waits for the pool): `body` is cancelled and left to finish
    /// on its own.
    func withDeadline<T: Sendable>(_ body: @Sendable @escaping () async throws -> T) async throws -> T {
        let timeout = server.timeout
        let race = DeadlineRace<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.start(continuation)
                let work = Task {
                    do { race.finish(.success(try await body())) } catch { race.finish(.failure(error)) }
                }
                let timer = Task {
                    try? await Task.sleep(for: timeout)
                    if race.finish(.failure(StoreError.unavailable("PostgreSQL did not answer within \(timeout)"))) { work.cancel() }
                }
                race.onFinish { timer.cancel() }
            }
        } onCancel: {
            race.finish(.failure(CancellationError()))
        }
    }

    /// Runs `body` in a transaction, turning PostgreSQL's errors into ``StoreError``s.
    func transaction<T: Sendable>(_ operation: String = #function, _ body: @Sendable @escaping (PostgresConnection) async throws -> T) async throws -> T {
        let client = client
        let logger = logger
        do {
            return try await StoreMetrics.timed("postgres", operation) {
                try await withDeadline { try await client.withTransaction(logger: logger) { connection in try await body(connection) } }
            }
        } catch let error as StoreError {
            throw error
        } catch let error as PostgresTransactionError {
            if let closureError = error.closureError as? StoreError { throw closureError }
            throw PostgresStore.storeError(error.closureError ?? error.commitError ?? error.beginError ?? error)
        } catch {
            throw PostgresStore.storeError(error)
        }
    }

    /// Runs one statement (timed under the caller's name) and returns its rows.
    func query(_ query: PostgresQuery, operation: String = #function) async throws -> PostgresRowSequence {
        let client = client
        let logger = logger
        return try await StoreMetrics.timed("postgres", operation) { try await withDeadline { try await client.query(query, logger: logger) } }
    }

    static func storeError(_ error: any Error) -> StoreError {
        if let error = error as? StoreError { return error }
        if let error = error as? PSQLError, let state = error.serverInfo?[.sqlState] {
            let message = error.serverInfo?[.message] ?? "\(error.code)"
            if state == "23505" || state == "23503" || state == "40001" {
                return .conflict("the write collides with stored data: \(message)")
            }
            return .unavailable("PostgreSQL refused the statement (\(state)): \(message)")
        }
        return .unavailable("PostgreSQL is unavailable: \(describe(error))")
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            if let underlying = error.underlying { return "\(error.code): \(underlying)" }
            return "\(error.code)"
        }
        return "\(error)"
    }
}
