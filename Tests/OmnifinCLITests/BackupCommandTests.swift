import Foundation
import Storage
import StoreTesting
import Testing

@Suite("omnifin backup", .serialized)
struct BackupCommandTests {
    @Test("create writes a private backup and its manifest; verify restores it into a scratch database; tampering is caught", arguments: StoreKind.allCases)
    func roundTrip(kind: StoreKind) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-backup-\(UUID().uuidString)")
        let documents = directory.appendingPathComponent("docs")
        try FileManager.default.createDirectory(at: documents, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["invoice-approval.md", "expense-policy.md", "travel-expenses.md"] {
            try FileManager.default.copyItem(
                at: CLI.repository.appendingPathComponent("corpora/\(name)"), to: documents.appendingPathComponent(name))
        }
        try await TestStores.withDatabaseURL(kind) { url in
            let snapshot = directory.appendingPathComponent("index.hnsw").path
            let ingested = try CLI.run(["ingest", documents.path, "--database", url, "--snapshot", snapshot])
            #expect(ingested.status == 0, "\(ingested.error)")
            #expect(try CLI.run(["admin", "create-user", "--database", url, "--email", "ops@example.com", "--password", "a long passphrase"]).status == 0)

            let file = directory.appendingPathComponent(kind == .sqlite ? "backup.sqlite" : "backup.pgdump").path
            let created = try CLI.run(["backup", "create", "--database", url, "--output", file])
            #expect(created.status == 0, "\(created.error)")
            #expect(created.output.contains("documents 3") && created.output.contains("users 1"), "\(created.output)")
            let mode = try #require(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int)
            #expect(mode & 0o077 == 0, "the backup is readable by others: \(String(mode, radix: 8))")

            // The live database moves on; the backup is the state it was made from.
            let store = try await StoreFactory.open(url: url)
            let live = try await store.backupManifest()
            #expect(live.rows["documents"] == 3 && live.rows["chunks"] ?? 0 > 0)
            let first = try #require(try await store.documents(after: nil, limit: 1, source: nil).first?.id)
            _ = try await store.write([.delete(documentID: first)])
            await store.close()

            var verify = ["backup", "verify", file]
            if kind == .postgres { verify += ["--scratch", url] }
            let verified = try CLI.run(verify + ["--json"])
            #expect(verified.status == 0, "\(verified.output) \(verified.error)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(verified.output.utf8)) as? [String: Any])
            #expect(report["matches"] as? Bool == true)
            let restored = try #require(report["restored"] as? [String: Any])
            #expect(restored["knowledge_checksum"] as? String == live.knowledgeChecksum)
            #expect((restored["rows"] as? [String: Any])?["documents"] as? Int == 3)

            // A manifest that does not match, a file cut short, an output that exists: each refused with what is wrong.
            let manifestPath = file + ".manifest.json"
            let original = try Data(contentsOf: URL(fileURLWithPath: manifestPath))
            var tampered = try #require(try JSONSerialization.jsonObject(with: original) as? [String: Any])
            var rows = try #require(tampered["rows"] as? [String: Any])
            rows["documents"] = 4
            tampered["rows"] = rows
            try JSONSerialization.data(withJSONObject: tampered).write(to: URL(fileURLWithPath: manifestPath))
            let mismatch = try CLI.run(verify)
            #expect(mismatch.status == 1 && mismatch.output.contains("documents: 4 rows backed up, 3 restored"), "\(mismatch.output) \(mismatch.error)")
            try original.write(to: URL(fileURLWithPath: manifestPath))

            let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            let truncated = directory.appendingPathComponent("truncated").path
            try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
            try original.write(to: URL(fileURLWithPath: truncated + ".manifest.json"))
            let broken = try CLI.run(["backup", "verify", truncated] + (kind == .postgres ? ["--scratch", url] : []))
            #expect(broken.status != 0 && !broken.error.isEmpty, "\(broken.output) \(broken.error)")

            let again = try CLI.run(["backup", "create", "--database", url, "--output", file])
            #expect(again.status != 0 && again.error.contains("already exists"))
        }
    }
}
