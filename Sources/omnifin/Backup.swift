import ArgumentParser
import Foundation
import Logging
import Storage

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Back up the database and check that a backup restores.", subcommands: [BackupCreate.self, BackupVerify.self])

    static func databaseURL(_ option: String?) -> String {
        option ?? ProcessInfo.processInfo.environment["OMNIFIN_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? DatabaseLocation.defaultURL
    }

    static func quietLogger() -> Logger {
        var logger = Logger(label: "omnifin.backup")
        logger.logLevel = .warning
        return logger
    }

    static func manifestPath(for file: String) -> String { file + ".manifest.json" }

    static func describe(_ manifest: BackupManifest) -> String {
        let rows = manifest.rows.sorted { $0.key < $1.key }.filter { $0.value > 0 }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return "generation \(manifest.generation); rows: \(rows.isEmpty ? "none" : rows); knowledge checksum \(manifest.knowledgeChecksum.prefix(16))…"
    }
}

struct BackupCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Write a consistent backup of the whole database, with a manifest beside it.",
        discussion: """
            PostgreSQL: pg_dump --format=custom (restore with pg_restore) on the same snapshot the manifest is computed from.
            SQLite: the online backup API, while the server keeps running. The manifest (FILE.manifest.json) holds every
            table's row count and a SHA-256 of the knowledge bank; `omnifin backup verify FILE` restores the backup into a
            scratch database and compares. The backup holds the accounts and conversations: it is written with mode 0600.
            Example: omnifin backup create --database postgres://omnifin@127.0.0.1/omnifin --output /backups/omnifin.pgdump
            """
    )

    @Option(help: "sqlite:PATH or postgres://… (default: OMNIFIN_DATABASE_URL or \(DatabaseLocation.defaultURL)).") var database: String?
    @Option(name: .shortAndLong, help: "The backup file to write (must not exist; default var/backups/omnifin-TIME.sqlite or .pgdump).") var output: String?
    @Flag(help: "Print the manifest as JSON.") var json = false

    func run() async throws {
        let url = Backup.databaseURL(database)
        let location: DatabaseLocation
        do {
            location = try DatabaseLocation(url: url)
        } catch {
            throw ValidationError(error.message)
        }
        let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: .gmt, formatOptions: [.withYear, .withMonth, .withDay, .withTime])
        let path: String
        if let output {
            path = output
        } else {
            if case .sqlite = location { path = "var/backups/omnifin-\(stamp).sqlite" } else { path = "var/backups/omnifin-\(stamp).pgdump" }
        }
        guard !FileManager.default.fileExists(atPath: path) else { throw ValidationError("\(path) already exists; name a new file") }
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let store: any OmnifinStore
        do {
            store = try await StoreFactory.open(url: url, logger: Backup.quietLogger())
        } catch let error as StoreError {
            throw ValidationError(error.message)
        }
        let started = ContinuousClock.now
        let manifest: BackupManifest
        do {
            // Readable by the owner only, from the first byte on.
            let previous = umask(0o077)
            defer { umask(previous) }
            manifest = try await store.backup(to: path)
        } catch let error as StoreError {
            await store.close()
            throw ValidationError(error.message)
        }
        await store.close()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        try encoder.encode(manifest).write(to: URL(fileURLWithPath: Backup.manifestPath(for: path)))
        let size = ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0
        if json {
            print(String(decoding: try encoder.encode(manifest), as: UTF8.self))
            return
        }
        let seconds = (ContinuousClock.now - started).components
        print("backed up \(DatabaseLocation.redacted(url)) to \(path) (\(size / 1024) KB in \(seconds.seconds).\(String(format: "%03d", seconds.attoseconds / 1_000_000_000_000_000)) s)")
        print("manifest \(Backup.manifestPath(for: path)): \(Backup.describe(manifest))")
    }
}

struct BackupVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Restore a backup into a scratch database and compare it with its manifest.",
        discussion: """
            A SQLite backup is restored as a copy in a temporary folder. A PostgreSQL dump is restored with pg_restore into
            a new database (omnifin_verify_…) on the --scratch server, which is dropped afterwards. Exit status 0 when every
            row count and the knowledge checksum match the manifest, 1 when they do not (each difference is listed).
            Example: omnifin backup verify /backups/omnifin.pgdump --scratch postgres://omnifin@127.0.0.1/postgres
            """
    )

    @Argument(help: "The backup file (from omnifin backup create).") var file: String
    @Option(help: "The manifest to compare with (default FILE.manifest.json).") var manifest: String?
    @Option(help: "A PostgreSQL server where a scratch database may be created (default: OMNIFIN_DATABASE_URL).") var scratch: String?
    @Flag(help: "Print the result as JSON.") var json = false

    struct Result: Encodable {
        var file: String
        var matches: Bool
        var differences: [String]
        var expected: BackupManifest
        var restored: BackupManifest
    }

    func run() async throws {
        guard let handle = FileHandle(forReadingAtPath: file) else { throw ValidationError("cannot read \(file)") }
        let head = (try? handle.read(upToCount: 16)) ?? Data()
        try? handle.close()
        let manifestPath = manifest ?? Backup.manifestPath(for: file)
        guard let data = FileManager.default.contents(atPath: manifestPath) else {
            throw ValidationError("no manifest at \(manifestPath): name it with --manifest (omnifin backup create writes FILE.manifest.json)")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        let expected: BackupManifest
        do {
            expected = try decoder.decode(BackupManifest.self, from: data)
        } catch {
            throw ValidationError("\(manifestPath) is not a backup manifest: \(error)")
        }
        let restored: BackupManifest
        do {
            if head.starts(with: Array("SQLite format 3\0".utf8)) {
                restored = try await Self.restoreSQLite(file)
            } else if head.starts(with: Array("PGDMP".utf8)) {
                restored = try await Self.restorePostgres(file, scratch: Backup.databaseURL(scratch))
            } else {
                throw ValidationError("\(file) is neither a SQLite database nor a pg_dump custom-format archive")
            }
        } catch let error as StoreError {
            throw ValidationError("restoring \(file) failed: \(error.message)")
        }
        let differences = expected.differences(from: restored)
        if json {
            try JSONOutput.print(Result(file: file, matches: differences.isEmpty, differences: differences, expected: expected, restored: restored))
        } else if differences.isEmpty {
            print("ok: \(file) restores to what was backed up: \(Backup.describe(restored))")
        } else {
            print("MISMATCH: \(file) does not restore to what was backed up:")
            for difference in differences { print("  - \(difference)") }
        }
        if !differences.isEmpty { throw ExitCode(1) }
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

    static func restorePostgres(_ file: String, scratch: String) async throws -> BackupManifest {
        guard case .postgres(var server) = try DatabaseLocation(url: scratch) else {
            throw ValidationError("a PostgreSQL dump needs a PostgreSQL server to restore into: pass --scratch postgres://…")
        }
        let name = "omnifin_verify_" + UUID().uuidString.prefix(8).lowercased()
        let maintenance = server.database
        try await PostgresTools.run("createdb", server: server, arguments: ["--maintenance-db=\(maintenance)", name])
        do {
            try await PostgresTools.run(
                "pg_restore", server: server, arguments: ["--no-owner", "--no-privileges", "--exit-on-error", "--dbname=\(name)", file])
            server.database = name
            let store = try await PostgresStore.connect(server, logger: Backup.quietLogger())
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
