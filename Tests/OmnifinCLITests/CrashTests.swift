import Foundation
import StoreTesting
import Testing

/// `kill -9` of the server in the middle of knowledge writes.
@Suite("omnifin serve killed mid-write", .serialized)
struct CrashTests {
    @Test("kill -9 during knowledge writes: every acknowledged write is stored and searchable after a restart, nothing half-written, the stale snapshot rebuilt", arguments: StoreKind.allCases)
    func killDuringWrites(kind: StoreKind) async throws {
        try await TestStores.withDatabaseURL(kind) { database in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-crash-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let created = try CLI.run(
                ["admin", "create-user", "--database", database, "--email", "ops@example.com", "--password", "a long passphrase", "--role", "admin"])
            #expect(created.status == 0, "\(created.error)")
            let server = ServerProcess(directory: directory, database: database)

            // A first life with a few documents, shut down cleanly: it leaves a snapshot behind.
            try await server.start()
            var token = try await server.signIn("ops@example.com", "a long passphrase")
            for n in 0..<3 {
                let reply = try await server.request(
                    "POST", "/api/knowledge", token: token, json: #"{"title": "Seed \#(n)", "body": "Seed document number \#(n) about cash pools."}"#)
                #expect(reply.status == 201, "\(reply)")
            }
            server.stop()
            #expect(FileManager.default.fileExists(atPath: server.snapshotPath))

            // The second life: four writers until the server is killed in the middle of their writes.
            try await server.start()
            let writerToken = try await server.signIn("ops@example.com", "a long passphrase")
            let acknowledged = Acknowledged()
            let writers = Task {
                await withTaskGroup(of: Void.self) { group in
                    for writer in 0..<4 {
                        group.addTask {
                            for n in 0..<10_000 {
                                let marker = "w\(writer)n\(n)"
                                let body = #"{"title": "Ledger note \#(marker)", "body": "Reconciliation marker \#(marker) for the treasury ledger."}"#
                                guard let reply = try? await server.request("POST", "/api/knowledge", token: writerToken, json: body) else { return }
                                if reply.status == 201, let id = (reply.body["document"] as? [String: Any])?["id"] as? String {
                                    acknowledged.add(id, marker)
                                }
                            }
                        }
                    }
                }
            }
            while acknowledged.count < 12 { try await Task.sleep(for: .milliseconds(50)) }
            server.kill9()
            await writers.value
            let writes = acknowledged.all
            #expect(writes.count >= 12)

            // The third life: the snapshot is older than the store, so the index is rebuilt from the store.
            let ready = try await server.start()
            let log = server.log(of: 3)
            #expect(log.contains("rebuilt") || log.contains("rebuilding"), "\(log.suffix(2000))")
            #expect(!log.contains("loaded index snapshot"), "a stale snapshot was trusted: \(log.suffix(2000))")
            token = try await server.signIn("ops@example.com", "a long passphrase")
            let documents = try #require(ready["documents"] as? Int)
            #expect(documents >= 3 + writes.count, "\(documents) documents, \(writes.count) acknowledged")
            // Nothing half-written: every passage has its vector, every document at least one passage.
            #expect(ready["passages"] as? Int == ready["vectors"] as? Int && (ready["passages"] as? Int ?? 0) >= documents, "\(ready)")
            for (id, _) in writes {
                #expect(try await server.request("GET", "/api/knowledge/\(id)", token: token).status == 200, "acknowledged \(id) is missing")
            }
            for (id, marker) in writes.prefix(5) {
                let hits = try await server.request("GET", "/api/knowledge?q=\(marker)&mode=bm25&k=3", token: token).body["hits"] as? [[String: Any]]
                #expect(hits?.first?["document_id"] as? String == id, "\(marker) is not found by search")
            }
            server.stop()
        }
    }
}

/// The writes the server acknowledged, from several writers.
final class Acknowledged: @unchecked Sendable {
    private let lock = NSLock()
    private var writes: [(id: String, marker: String)] = []

    func add(_ id: String, _ marker: String) { lock.withLock { writes.append((id, marker)) } }
    var count: Int { lock.withLock { writes.count } }
    var all: [(id: String, marker: String)] { lock.withLock { writes } }
}
