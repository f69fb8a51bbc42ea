public import Foundation

/// Where the store lives, parsed from `OMNIFIN_DATABASE_URL`.
///
/// `sqlite:PATH` (relative paths are relative to the working directory; `sqlite::memory:` for a private
/// in-memory database) or `postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=disable|prefer|require&timeout=SECONDS`.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    /// The default when nothing is configured: an SQLite file beside the working directory.
    public static let defaultURL = "sqlite:var/omnifin.db"

    public struct PostgresLocation: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var username: String
        public var password: String?
        public var database: String
        public var tls: TLSMode
        /// How long a connection attempt, and each statement or transaction, may take before it fails with
        /// ``StoreError/unavailable(_:)`` (`timeout=SECONDS`, default 10): a database that went away answers in time.
        public var timeout: Duration = .seconds(10)

        public enum TLSMode: String, Sendable, Equatable {
            case disable, prefer, require
        }
    }

    /// Parses a database URL.
    /// - Throws: ``StoreError/invalidDatabaseURL(_:)`` naming what is wrong.
    public init(url: String) throws(StoreError) {
        let trimmed = url.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("sqlite:") {
            var path = String(trimmed.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty else {
                throw .invalidDatabaseURL("'\(url)' names no file: write sqlite:PATH, for example sqlite:var/omnifin.db")
            }
            self = .sqlite(path: path)
            return
        }
        guard trimmed.hasPrefix("postgres://") || trimmed.hasPrefix("postgresql://"),
            let components = URLComponents(string: trimmed)
        else {
            throw .invalidDatabaseURL(
                "'\(DatabaseLocation.redacted(url))' is not a database URL: use sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE")
        }
        guard let host = components.host, !host.isEmpty else {
            throw .invalidDatabaseURL("'\(DatabaseLocation.redacted(url))' names no host")
        }
        guard let user = components.user, !user.isEmpty else {
            throw .invalidDatabaseURL("'\(DatabaseLocation.redacted(url))' names no user: postgres://USER:PASSWORD@HOST:PORT/DATABASE")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        var tls = PostgresLocation.TLSMode.prefer
        var timeout: Duration = .seconds(10)
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                switch item.value {
                case "disable": tls = .disable
                case "prefer", "allow": tls = .prefer
                case "require", "verify-ca", "verify-full": tls = .require
                default: throw .invalidDatabaseURL("sslmode '\(item.value ?? "")' is not one of disable, prefer, require")
                }
            case "timeout":
                guard let seconds = item.value.flatMap(Double.init), seconds >= 0.1, seconds <= 3600 else {
                    throw .invalidDatabaseURL("timeout '\(item.value ?? "")' is not a number of seconds in 0.1...3600")
                }
                timeout = .milliseconds(Int(seconds * 1000))
            default:
                continue
            }
        }
        var location = PostgresLocation(
            host: host, port: components.port ?? 5432, username: user.removingPercentEncoding ?? user,
            password: components.password.map { $0.removingPercentEncoding ?? $0 }, database: database.isEmpty ? user : database, tls: tls)
        location.timeout = timeout
        self = .postgres(location)
    }

    /// The URL with its password hidden, for logs and error messages.
    public var description: String {
        switch self {
        case .sqlite(let path): return "sqlite:\(path)"
        case .postgres(let p): return "postgres://\(p.username)@\(p.host):\(p.port)/\(p.database)"
        }
    }

    /// Where the index snapshot of the database at `url` lives when nothing else is configured, so two databases
    /// never share one: `var/index.hnsw` for the default database, `PATH.hnsw` beside any other SQLite file
    /// (`sqlite:exports/other.db` → `exports/other.db.hnsw`), `var/index-HOST-PORT-DATABASE.hnsw` for PostgreSQL.
    /// A URL that does not parse gets the default (opening its store fails with the precise message).
    public static func defaultSnapshotPath(for url: String) -> String {
        guard let location = try? DatabaseLocation(url: url) else { return "var/index.hnsw" }
        switch location {
        case .sqlite(let path):
            if path == "var/omnifin.db" { return "var/index.hnsw" }
            // An in-memory database has no file: its snapshot is the process's own, in the temporary folder.
            if path == ":memory:" {
                return (NSTemporaryDirectory() as NSString).appendingPathComponent("omnifin-index-memory-\(ProcessInfo.processInfo.processIdentifier).hnsw")
            }
            return path + ".hnsw"
        case .postgres(let server):
            let name = "\(server.host)-\(server.port)-\(server.database)".map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" }
            return "var/index-\(String(name)).hnsw"
        }
    }

    public static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }
}
