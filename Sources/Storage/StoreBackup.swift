import Crypto
public import Foundation

/// What a backup holds, written beside it (`FILE.manifest.json`) when it is made and recomputed from a restored
/// copy when it is verified: the schema, every table's row count, and a SHA-256 over the knowledge bank (every
/// document's id, title, body and hash; every passage's id, place, hash and embedding bytes).
public struct BackupManifest: Codable, Sendable, Equatable {
    public var format = 1
    /// `sqlite` or `postgres`.
    public var store: String
    public var createdAt: Date
    public var migrations: [String]
    public var rows: [String: Int]
    public var knowledgeChecksum: String
    public var generation: Int64

    /// The differences that matter between what was backed up and what a restore holds (the time is not one).
    public func differences(from restored: BackupManifest) -> [String] {
        var found: [String] = []
        if store != restored.store { found.append("made from \(store), restored as \(restored.store)") }
        if migrations != restored.migrations { found.append("schema \(migrations.joined(separator: ",")) became \(restored.migrations.joined(separator: ","))") }
        for table in Set(rows.keys).union(restored.rows.keys).sorted() where rows[table] != restored.rows[table] {
            found.append("\(table): \(rows[table].map(String.init) ?? "absent") rows backed up, \(restored.rows[table].map(String.init) ?? "absent") restored")
        }
        if knowledgeChecksum != restored.knowledgeChecksum { found.append("the knowledge bank's checksum differs") }
        if generation != restored.generation { found.append("knowledge generation \(generation) became \(restored.generation)") }
        return found
    }
}

/// Consistent copies of a whole store.
public protocol BackupStore: Sendable {
    /// Writes a consistent copy of the whole database to `path` (SQLite: the online backup API; PostgreSQL:
    /// `pg_dump --format=custom` on the same snapshot the manifest is computed from) and returns its manifest.
    /// - Throws: ``StoreError`` when the database cannot be read or the file written.
    func backup(to path: String) async throws -> BackupManifest
    /// The manifest of the database as it is now.
    func backupManifest() async throws -> BackupManifest
}

enum BackupTables {
    /// Every table the schema defines. Names are constants of ours, never input, so they may be spliced into SQL.
    static let all = [
        "counters", "documents", "chunks", "knowledge_changes", "users", "auth_tokens", "conversations", "messages", "prompts", "analytics_events",
        "audit_log", "outbox", "ingest_jobs",
    ]
}

/// The running SHA-256 of the knowledge bank, fed rows in id order.
struct KnowledgeChecksum {
    private var hasher = SHA256()

    mutating func document(id: String, title: String, body: String, contentHash: String) {
        for field in ["d", id, title, body, contentHash] { add(field) }
    }

    mutating func chunk(id: Int64, documentID: String, ordinal: Int, contentHash: String, embedding: [UInt8]) {
        for field in ["c", String(id), documentID, String(ordinal), contentHash] { add(field) }
        hasher.update(data: embedding)
    }

    private mutating func add(_ field: String) {
        // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
        hasher.update(data: Array("\(field.utf8.count):".utf8))
        hasher.update(data: Array(field.utf8))
    }

    func finish() -> String { hasher.finalize().hexadecimal }
}
