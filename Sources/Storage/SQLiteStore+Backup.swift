import Foundation
import GRDB

extension SQLiteStore: BackupStore {
    /// SQLite's online backup API: pages are copied while readers and the writer go on; the copy is one
    /// consistent state, and the manifest is computed from the copy itself.
    public func backup(to path: String) async throws -> BackupManifest {
        guard !FileManager.default.fileExists(atPath: path) else { throw StoreError.invalidArgument("\(path) already exists; name a new file") }
        let source = writer
        do {
            let copy = try DatabaseQueue(path: path)
            try await source.backup(to: copy)
            let manifest = try await copy.read { db in try Self.manifest(db) }
            try copy.close()
            return manifest
        } catch let error as StoreError {
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw StoreError.unavailable("backing up \(location) to \(path) failed: \(error)")
        }
    }

    public func backupManifest() async throws -> BackupManifest {
        try await read { db in try Self.manifest(db) }
    }

    static func manifest(_ db: Database) throws -> BackupManifest {
        var rows: [String: Int] = [:]
        for table in BackupTables.all { rows[table] = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0 }
        var checksum = KnowledgeChecksum()
        let documents = try Row.fetchCursor(db, sql: "SELECT id, title, body, content_hash FROM documents ORDER BY id")
        while let row = try documents.next() {
            checksum.document(id: row[0], title: row[1], body: row[2], contentHash: row[3])
        }
        let chunks = try Row.fetchCursor(db, sql: "SELECT id, document_id, ordinal, content_hash, embedding FROM chunks ORDER BY id")
        while let row = try chunks.next() {
            let embedding: Data = row[4]
            checksum.chunk(id: row[0], documentID: row[1], ordinal: row[2], contentHash: row[3], embedding: [UInt8](embedding))
        }
        return BackupManifest(
            store: "sqlite", createdAt: Date(), migrations: try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier"),
            rows: rows, knowledgeChecksum: checksum.finish(),
            generation: try Int64.fetchOne(db, sql: "SELECT value FROM counters WHERE name = 'generation'") ?? 0)
    }
}
