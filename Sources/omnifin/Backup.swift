import ArgumentParser
import Foundation
import Logging
import Storage

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Back up the database and check that a backup restores.", subcommands: [BackupCreate.self, BackupVerify.self])

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
            PostgreSQL: pg_dump --format=custom (restore with pg_restore) on the same snapshot the manifest is computed from. \
            SQLite: the online backup API, while the server keeps running. The manifest (FILE.manifest.json) holds every \
            table's row count and a SHA-256 of the knowledge bank; `omnifin backup verify FILE` restores the backup into a \
            scratch database and compares. The backup holds the accounts and conversations: it is written with mode 0600.

            Example:
              omnifin backup create --database postgres://omnifin@127.0.0.1/omnifin \\
                --output /backups/omnifin.pgdump
            """
    )

    @Option(help: "sqlite:PATH or postgres://… (default: OMNIFIN_DATABASE_URL or \(DatabaseLocation.defaultURL)).") var database: String?
    @Option(name: .shortAndLong, help: "The backup file to write (must not exist; default var/backups/omnifin-TIME.sqlite or .pgdump).") var output: String?
    @Flag(help: "Print the manifest as JSON.") var json = false

    func run() async throws {
        let url = Wiring.databaseURL(database, try Wiring.settings())
        let path: String
        do {
            let location = try DatabaseLocation(url: url)
            let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: .gmt, formatOptions: [.withYear, .withMonth, .withDay, .withTime])
            if case .sqlite = location { path = output ?? "var/backups/omnifin-\(stamp).sqlite" } else { path = output ?? "var/backups/omnifin-\(stamp).pgdump" }
        } catch {
            throw ValidationError(error.message)
        }
        let started = ContinuousClock.now
        let manifest: BackupManifest
        do {
            manifest = try await BackupFiles.create(url: url, path: path, logger: Wiring.logger("omnifin.backup"))
        } catch let error as StoreError {
            throw ValidationError(error.message)
        }
        let size = ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0
        if json {
            print(String(decoding: try BackupFiles.manifestEncoder.encode(manifest), as: UTF8.self))
            return
        }
        let seconds = (ContinuousClock.now - started).components
        print("backed up \(DatabaseLocation.redacted(url)) to \(path) (\(size / 1024) KB in \(seconds.seconds).\(String(format: "%03d", seconds.attoseconds / 1_000_000_000_000_000)) s)")
        print("manifest \(BackupFiles.manifestPath(for: path)): \(Backup.describe(manifest))")
    }
}

struct BackupVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Restore a backup into a scratch database and compare it with its manifest.",
        discussion: """
            A SQLite backup is restored as a copy in a temporary folder. A PostgreSQL dump is restored with pg_restore into \
            a new database (omnifin_verify_…) on the --scratch server, which is dropped afterwards. Exit status 0 when every \
            row count and the knowledge checksum match the manifest, 1 when they do not (each difference is listed).

            Example:
              omnifin backup verify /backups/omnifin.pgdump \\
                --scratch postgres://omnifin@127.0.0.1/postgres
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
        let expected: BackupManifest
        let restored: BackupManifest
        do {
            (expected, restored) = try await BackupFiles.verify(
                file: file, manifest: manifest, scratch: Wiring.databaseURL(scratch, try Wiring.settings()), logger: Wiring.logger("omnifin.backup"))
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
}
