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
}
