import Foundation
import NIOCore
import PostgresNIO

extension PostgresStore: BackupStore {
    /// `pg_dump --format=custom` on an exported snapshot: the manifest is computed inside the same
    /// repeatable-read transaction whose snapshot the dump uses, so both describe exactly the same state however
    /// busy the database is.
    public func backup(to path: String) async throws -> BackupManifest {
        guard !FileManager.default.fileExists(atPath: path) else { throw StoreError.invalidArgument("\(path) already exists; name a new file") }
        let server = server
        do {
            return try await client.withConnection { connection in
                try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: self.logger)
                do {
                    var snapshot = ""
                    for try await value in try await connection.query("SELECT pg_export_snapshot()", logger: self.logger).decode(String.self) {
                        snapshot = value
                    }
                    let manifest = try await self.manifest(on: connection)
                    try await PostgresTools.run(
                        "pg_dump", server: server,
                        arguments: ["--format=custom", "--no-owner", "--no-privileges", "--snapshot=\(snapshot)", "--file=\(path)", "--dbname=\(server.database)"])
                    try await connection.query("COMMIT", logger: self.logger)
                    return manifest
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: self.logger)
                    throw error
                }
            }
        } catch let error as StoreError {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw StoreError.unavailable("backing up \(location) failed: \(PostgresStore.describe(error))")
        }
    }

    public func backupManifest() async throws -> BackupManifest {
        do {
            return try await client.withConnection { connection in try await self.manifest(on: connection) }
        } catch {
            throw StoreError.unavailable("reading \(location) failed: \(PostgresStore.describe(error))")
        }
    }

    private func manifest(on connection: PostgresConnection) async throws -> BackupManifest {
        var rows: [String: Int] = [:]
        for table in BackupTables.all {
            // The table names are our own constants (BackupTables.all), not input.
            for try await count in try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"), logger: logger).decode(Int64.self) {
                rows[table] = Int(count)
            }
        }
        var checksum = KnowledgeChecksum()
        // Byte order (COLLATE "C"), as SQLite sorts, whatever the database's collation.
        let documents = try await connection.query(#"SELECT id, title, body, content_hash FROM documents ORDER BY id COLLATE "C""#, logger: logger)
        for try await (id, title, body, hash) in documents.decode((String, String, String, String).self) {
            checksum.document(id: id, title: title, body: body, contentHash: hash)
        }
        let chunks = try await connection.query("SELECT id, document_id, ordinal, content_hash, embedding FROM chunks ORDER BY id", logger: logger)
        for try await (id, document, ordinal, hash, embedding) in chunks.decode((Int64, String, Int, String, ByteBuffer).self) {
            checksum.chunk(id: id, documentID: document, ordinal: ordinal, contentHash: hash, embedding: Array(embedding.readableBytesView))
        }
        var migrations: [String] = []
        for try await name in try await connection.query("SELECT name FROM schema_migrations ORDER BY name", logger: logger).decode(String.self) {
            migrations.append(name)
        }
        var generation: Int64 = 0
        for try await value in try await connection.query("SELECT value FROM counters WHERE name = 'generation'", logger: logger).decode(Int64.self) {
            generation = value
        }
        return BackupManifest(
            store: "postgres", createdAt: Date(), migrations: migrations, rows: rows, knowledgeChecksum: checksum.finish(), generation: generation)
    }
}

/// PostgreSQL's command-line tools (`pg_dump`, `pg_restore`, `createdb`, `dropdb`), connected like the store: the
/// password travels in the environment, never on the command line.
public enum PostgresTools {
    /// Runs `tool` against `server`; throws with the tool's own error output when it fails.
    public static func run(_ tool: String, server: DatabaseLocation.PostgresLocation, arguments: [String]) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool, "--host=\(server.host)", "--port=\(server.port)", "--username=\(server.username)", "--no-password"] + arguments
        // Only what the tool needs: the server's own secrets (the data key, API keys) stay out of its environment.
        var environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C.UTF-8", "PGSSLMODE": server.tls.rawValue]
        environment["PGPASSWORD"] = server.password
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw StoreError.unavailable("cannot run \(tool) (Debian: postgresql-client): \(error)")
        }
        let output = await withCheckedContinuation { (continuation: CheckedContinuation<Data, Never>) in
            DispatchQueue.global().async {
                let data = errors.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: data)
            }
        }
        guard process.terminationStatus == 0 else {
            let message = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw StoreError.unavailable("\(tool) failed (exit \(process.terminationStatus)): \(message)")
        }
    }
}
