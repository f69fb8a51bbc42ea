public import Foundation
public import Logging

/// Backups as files: a consistent backup of a database with its manifest beside it, and the check that a backup
/// restores into a scratch database exactly as it was taken (what `omnifin backup create` and `verify` run).
public enum BackupFiles {
    /// The manifest written beside a backup.
    public static func manifestPath(for file: String) -> String { file + ".manifest.json" }

    /// Backs up the database at `url` to `path` (which must not exist), readable by its owner only, and writes the
    /// manifest beside it.
    /// - Throws: ``StoreError`` naming what is wrong (a bad URL, a file that exists, a failing `pg_dump`).
    public static func create(url: String, path: String, logger: Logger) async throws -> BackupManifest {
        guard !FileManager.default.fileExists(atPath: path) else { throw StoreError.invalidArgument("\(path) already exists; name a new file") }
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let store = try await StoreFactory.open(url: url, logger: logger)
        let manifest: BackupManifest
        do {
            // Readable by the owner only, from the first byte on.
            let previous = umask(0o077)
            defer { umask(previous) }
            manifest = try await store.backup(to: path)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
        try manifestEncoder.encode(manifest).write(to: URL(fileURLWithPath: manifestPath(for: path)))
        return manifest
    }

    /// What a restore of `file` holds, compared with `manifest` (default: the one beside it).
    /// - Parameter scratch: a PostgreSQL server where a scratch database may be created and dropped (for a
    ///   `pg_dump` archive).
    /// - Throws: ``StoreError`` (`invalidArgument` for a file that is no backup, a missing manifest, no scratch server).
    public static func verify(file: String, manifest: String? = nil, scratch: String, logger: Logger) async throws
        -> (expected: BackupManifest, restored: BackupManifest)
    {
        guard let handle = FileHandle(forReadingAtPath: file) else { throw StoreError.invalidArgument("cannot read \(file)") }
        let head = (try? handle.read(upToCount: 16)) ?? Data()
        try? handle.close()
        let manifestPath = manifest ?? manifestPath(for: file)
        guard let data = FileManager.default.contents(atPath: manifestPath) else {
            throw StoreError.invalidArgument("no manifest at \(manifestPath): name it with --manifest (omnifin backup create writes FILE.manifest.json)")
        }
        let expected: BackupManifest
        do {
            expected = try manifestDecoder.decode(BackupManifest.self, from: data)
        } catch {
            throw StoreError.invalidArgument("\(manifestPath) is not a backup manifest: \(error)")
        }
        if head.starts(with: Array("SQLite format 3\0".utf8)) { return (expected, try await restoreSQLite(file)) }
        if head.starts(with: Array("PGDMP".utf8)) { return (expected, try await restorePostgres(file, scratch: scratch, logger: logger)) }
        throw StoreError.invalidArgument("\(file) is neither a SQLite database nor a pg_dump custom-format archive")
    }

    public static var manifestEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    static var manifestDecoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    static func restoreSQLite(_ file: String) async throws -> BackupManifest {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-verify-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appendingPathComponent("restored.sqlite").path
        try FileManager.default.copyItem(atPath: file, toPath: copy)
        let store = try SQLiteStore(path: copy)
        defer { Task { await store.close() } }
        return try await store.backupManifest()
    }

    static func restorePostgres(_ file: String, scratch: String, logger: Logger) async throws -> BackupManifest {
        guard case .postgres(var server) = try DatabaseLocation(url: scratch) else {
            throw StoreError.invalidArgument("a PostgreSQL dump needs a PostgreSQL server to restore into: pass --scratch postgres://…")
        }
        let name = "omnifin_verify_" + UUID().uuidString.prefix(8).lowercased()
        let maintenance = server.database
        try await PostgresTools.run("createdb", server: server, arguments: ["--maintenance-db=\(maintenance)", name])
        do {
            try await PostgresTools.run(
                "pg_restore", server: server, arguments: ["--no-owner", "--no-privileges", "--exit-on-error", "--dbname=\(name)", file])
            server.database = name
            let store = try await PostgresStore.connect(server, logger: logger)
            let manifest: BackupManifest
            do {
                manifest = try await store.backupManifest()
            } catch {
                await store.close()
                throw error
            }
            await store.close()
            server.database = maintenance
            try await PostgresTools.run("dropdb", server: server, arguments: ["--maintenance-db=\(maintenance)", name])
            return manifest
        } catch {
            server.database = maintenance
            try? await PostgresTools.run("dropdb", server: server, arguments: ["--maintenance-db=\(maintenance)", "--if-exists", name])
            throw error
        }
    }
}
