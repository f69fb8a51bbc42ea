import Foundation
import Storage
import StoreTesting
import Testing

@Suite("omnifin ingest", .serialized)
struct IngestCommandTests {
    @Test("kill -9 in the middle of a bulk ingest into PostgreSQL: the same command resumes, nothing missing, nothing twice")
    func killAndResume() async throws {
        let dump = CLI.sharedData + "/crm_erp/northwind_psql/northwind.sql"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-kill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await TestStores.withDatabaseURL(.postgres) { url in
            let arguments = ["ingest", dump, "--database", url, "--snapshot", directory.appendingPathComponent("index.hnsw").path, "--batch", "16", "--json"]
            let process = Process()
            process.executableURL = CLI.executable
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let store = try await StoreFactory.open(url: url)
            // Wait until some batches are committed, then kill the process without warning.
            var committed = 0
            for _ in 0..<600 where committed < 100 {
                try await Task.sleep(for: .milliseconds(100))
                committed = try await store.documentCount()
            }
            #expect(committed >= 100 && committed < 1050, "committed \(committed) before the kill")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal)
            let atKill = try await store.documentCount()

            let rerun = try CLI.run(arguments)
            #expect(rerun.status == 0, "\(rerun.error)")
            let summary = try #require(try JSONSerialization.jsonObject(with: Data(rerun.output.utf8)) as? [String: Any])
            let resumedFrom = summary["resumed_from"] as? Int ?? 0
            #expect(resumedFrom > 0 && resumedFrom <= atKill, "\(summary)")
            #expect(summary["skipped"] as? Int == 0)
            #expect(try await store.documentCount() == 1050)
            var keys = Set<String>()
            var cursor: String?
            while true {
                let page = try await store.documents(after: cursor, limit: 500, source: "northwind")
                for document in page { keys.insert(document.externalID ?? "") }
                guard let last = page.last, page.count == 500 else { break }
                cursor = last.id
            }
            #expect(keys.count == 1050)
            await store.close()
        }
    }

    @Test("into another database the snapshot lands beside it; --dry-run writes nothing; a prune above its limit exits 4 (#26)")
    func otherDatabase() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-other-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(DatabaseLocation.defaultSnapshotPath(for: DatabaseLocation.defaultURL) == "var/index.hnsw")
        #expect(DatabaseLocation.defaultSnapshotPath(for: "sqlite:exports/other.db") == "exports/other.db.hnsw")
        #expect(DatabaseLocation.defaultSnapshotPath(for: "postgres://omnifin:secret@db.internal:5433/finance") == "var/index-db.internal-5433-finance.hnsw")

        let shippers = CLI.sharedData + "/crm_erp/northwind_csv/shippers.csv"
        let first = try CLI.run(["ingest", shippers, "--database", "sqlite:other.db"], in: directory)
        #expect(first.status == 0 && first.output.contains("3 created"), "\(first.output) \(first.error)")
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("other.db.hnsw").path))
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("var/index.hnsw").path), "the default database's snapshot is not touched")

        // An export with one shipper left: a dry run lists what the prune would delete and writes nothing.
        let cut = directory.appendingPathComponent("carriers.csv")
        let text = try String(contentsOfFile: shippers, encoding: .utf8)
        try (text.split(separator: "\n").prefix(2).joined(separator: "\n") + "\n").write(to: cut, atomically: true, encoding: .utf8)
        let dry = try CLI.run(["ingest", cut.path, "--database", "sqlite:other.db", "--prune", "--dry-run"], in: directory)
        #expect(dry.status == 0 && dry.output.contains("dry run, nothing written: would create 0, update 0, leave 1 unchanged, delete 2"), "\(dry.output)")
        #expect(dry.error.contains("northwind:Shipper:2  United Package") && dry.error.contains("northwind:Shipper:3  Federal Shipping"), "\(dry.error)")
        let stopped = try CLI.run(["ingest", cut.path, "--database", "sqlite:other.db", "--prune", "--max-delete", "1"], in: directory)
        #expect(stopped.status == 4 && stopped.error.contains("--max-delete 2"), "\(stopped.error)")
        let again = try CLI.run(["ingest", shippers, "--database", "sqlite:other.db", "--json"], in: directory)
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(again.output.utf8)) as? [String: Any])
        #expect(summary["unchanged"] as? Int == 3 && summary["created"] as? Int == 0, "nothing was deleted: \(summary)")
        let pruned = try CLI.run(["ingest", cut.path, "--database", "sqlite:other.db", "--prune"], in: directory)
        #expect(pruned.status == 0 && pruned.output.contains("2 deleted") && pruned.error.contains("deleting 2 documents"), "\(pruned.output) \(pruned.error)")
        let usage = try CLI.run(["ingest", cut.path, "--database", "sqlite:other.db", "--force"], in: directory)
        #expect(usage.status == 64 && usage.error.contains("add --prune"), "\(usage.error)")
    }
}
