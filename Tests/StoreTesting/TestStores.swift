public import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import PostgresNIO
public import Storage

/// The stores every conformance test runs against.
public enum StoreKind: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite
    case postgres
    public var description: String { rawValue }
}

/// Fresh, isolated databases for tests: a new SQLite file, or a new database in the PostgreSQL cluster that
/// `make test` starts on loopback (`OMNIFIN_TEST_POSTGRES_URL`). Without that cluster the tests fail, loudly.
public enum TestStores {
    public struct MissingPostgres: Error, CustomStringConvertible {
        public var description: String {
            "OMNIFIN_TEST_POSTGRES_URL is not set: run the tests with `make test`, which starts a PostgreSQL cluster on loopback "
                + "(scripts/test-postgres.sh start prints the URL)"
        }
    }

    public static func postgresURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["OMNIFIN_TEST_POSTGRES_URL"], !url.isEmpty else { throw MissingPostgres() }
        return url
    }

    /// Runs `body` with a fresh store of `kind`, then closes and removes it.
    public static func withStore<T>(_ kind: StoreKind, _ body: (any KnowledgeStore) async throws -> T) async throws -> T {
        try await withDatabaseURL(kind) { url in try await withReopenedStore(kind, url: url, body) }
    }

    /// Runs `body` with a fresh database URL of `kind` (`sqlite:PATH` or `postgres://…`), removed afterwards.
    public static func withDatabaseURL<T>(_ kind: StoreKind, _ body: (String) async throws -> T) async throws -> T {
        switch kind {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-test-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            return try await body("sqlite:" + directory.appendingPathComponent("omnifin.db").path)
        case .postgres:
            let database = try await PostgresDatabases.create()
            do {
                let result = try await body(database.url)
                try await PostgresDatabases.drop(database)
                return result
            } catch {
                try? await PostgresDatabases.drop(database)
                throw error
            }
        }
    }

    /// Opens the store at `url` for the length of `body`.
    public static func withReopenedStore<T>(_ kind: StoreKind, url: String, _ body: (any KnowledgeStore) async throws -> T) async throws -> T {
        let store = try await StoreFactory.open(url: url, logger: Logger(label: "omnifin.test"))
        do {
            let result = try await body(store)
            await store.close()
            return result
        } catch {
            await store.close()
            throw error
        }
    }
}

/// Creates and drops databases in the test cluster. Names are generated here, never taken from input.
public enum PostgresDatabases {
    struct Database {
        var name: String
        var url: String
    }

    static func create() async throws -> Database {
        let base = try TestStores.postgresURL()
        let name = "omnifin_t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await administer(base: base, "CREATE DATABASE \(name)")
        guard var components = URLComponents(string: base) else { throw TestStores.MissingPostgres() }
        components.path = "/" + name
        return Database(name: name, url: components.string!)
    }

    static func drop(_ database: Database) async throws {
        try await administer(base: try TestStores.postgresURL(), "DROP DATABASE IF EXISTS \(database.name) WITH (FORCE)")
    }

    /// Ends the connections to `databaseURL`'s database that are waiting in `LISTEN`: what a replica sees when its
    /// notification connection is lost. Returns how many there were.
    public static func terminateListeners(databaseURL: String) async throws -> Int {
        guard case .postgres(let location) = try DatabaseLocation(url: databaseURL) else { throw TestStores.MissingPostgres() }
        let statement: PostgresQuery = """
            SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
            WHERE datname = \(location.database) AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()
            """
        return try await administer(base: databaseURL, statement).first ?? 0
    }

    private static func administer(base: String, _ statement: String) async throws {
        // A generated name, not input: CREATE/DROP DATABASE cannot take bind parameters.
        _ = try await administer(base: base, PostgresQuery(unsafeSQL: statement))
    }

    /// Runs one statement in the cluster's `postgres` database and returns the first column of its rows as integers.
    @discardableResult
    private static func administer(base: String, _ statement: PostgresQuery) async throws -> [Int] {
        guard case .postgres(let location) = try DatabaseLocation(url: base) else { throw TestStores.MissingPostgres() }
        let configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password, database: "postgres",
            tls: .disable)
        let client = PostgresClient(configuration: configuration, backgroundLogger: Logger(label: "omnifin.test.admin"))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            var values: [Int] = []
            for try await row in try await client.query(statement) {
                if let value = try? row.decode(Int.self) { values.append(value) }
            }
            group.cancelAll()
            return values
        }
    }
}

/// A PostgreSQL cluster of a test's own (scripts/test-postgres.sh on another port and folder), which the test may
/// stop and start again, as an operator restarting the database would.
public final class OwnPostgres: @unchecked Sendable {
    public let port: Int
    public let url: String
    private let directory: String
    private let script: String

    public init() throws {
        port = 40_000 + Int.random(in: 0..<15_000)
        directory = "/tmp/omnifin-own-pg-\(port)"
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        script = repository.appendingPathComponent("scripts/test-postgres.sh").path
        url = try Self.run(script, ["start"], port: port, directory: directory).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops the server: `immediate` is a crash (no checkpoint, clients cut off), `fast` a clean shutdown.
    public func stop(mode: String = "immediate") throws {
        let bin = try Self.run("/bin/sh", ["-c", "ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1"], port: port, directory: directory)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", bin + "/pg_ctl", "-D", directory, "-m", mode, "-w", "stop"], port: port, directory: directory)
    }

    public func start() throws {
        _ = try Self.run(script, ["start"], port: port, directory: directory)
    }

    /// Stops the server and removes its folder.
    public func remove() {
        try? stop(mode: "fast")
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs a command to its end and returns what it printed. posix_spawn and waitpid rather than Foundation's
    /// Process, whose wait missed the exit of a script that leaves a server running behind it.
    @discardableResult
    private static func run(_ executable: String, _ arguments: [String], port: Int, directory: String) throws -> String {
        var environment = ProcessInfo.processInfo.environment
        environment["OMNIFIN_TEST_PG_PORT"] = String(port)
        environment["OMNIFIN_TEST_PG_DIR"] = directory
        // A file, not a pipe: the server the script starts inherits the descriptor and would hold a pipe open forever.
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-pg-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        guard posix_spawn(&pid, executable, &actions, nil, argv, envp) == 0 else { throw TestStores.MissingPostgres() }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // Exited normally with status 0 (WIFEXITED and WEXITSTATUS, which Swift does not import).
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else { throw TestStores.MissingPostgres() }
        return (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    }
}
