@testable import ChatAPI
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Retrieval
import StoreTesting
import Testing

/// What must hold when the things Omnifin depends on fail under it.
@Suite("Faults", .serialized)
struct FaultTests {
    @Test("PostgreSQL restarted while serving: requests fail with 503 and a message, none hangs, service resumes without restarting Omnifin")
    func postgresRestart() async throws {
        let postgres = try OwnPostgres()
        defer { postgres.remove() }
        try await APIHarness.withAPI(.postgres, databaseURL: postgres.url + "&timeout=2") { api in
            let admin = try await api.signUpAdmin("admin@example.com")
            let created = try await api.request(
                .post, "/api/knowledge", token: admin, json: #"{"title": "Cash desk", "body": "The cash desk closes at 16:00 on Fridays."}"#)
            let id = try #require((created.body["document"] as? [String: Any])?["id"] as? String)

            // A restart by the operator (a clean, fast shutdown: the test cluster commits asynchronously, so a crash
            // could lose the last commits, which is PostgreSQL's business, not this test's).
            try postgres.stop(mode: "fast")
            let started = ContinuousClock.now
            // Twenty requests at once while the database is down: each answers, with 503 and a message.
            let statuses = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String?).self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        let reply = try await api.request(.get, "/api/knowledge/\(id)", token: admin)
                        return (reply.status, (reply.body["error"] as? [String: Any])?["code"] as? String)
                    }
                }
                var all: [(HTTPResponse.Status, String?)] = []
                for try await status in group { all.append(status) }
                return all
            }
            let elapsed = ContinuousClock.now - started
            #expect(statuses.allSatisfy { $0.0 == .serviceUnavailable && $0.1 == "store_unavailable" }, "\(statuses)")
            #expect(elapsed < .seconds(8), "the requests took \(elapsed) while the database was down")
            let ready = try await api.request(.get, "/readyz")
            #expect(ready.status == .serviceUnavailable, "\(ready.body)")

            try postgres.start()
            var back = false
            let restarted = ContinuousClock.now
            while !back, ContinuousClock.now - restarted < .seconds(30) {
                back = try await api.request(.get, "/api/knowledge/\(id)", token: admin).status == .ok
                if !back { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(back, "the server did not serve again after PostgreSQL came back")
            #expect(try await api.request(.get, "/readyz").status == .ok)
            let written = try await api.request(
                .post, "/api/knowledge", token: admin, json: #"{"title": "Safe", "body": "The safe is opened by two people."}"#)
            #expect(written.status == .created, "\(written.body)")
        }
    }

    @Test("a full disk for the snapshot: the server keeps serving, /readyz and /metrics report it, and it saves again once there is room")
    func snapshotDiskFull() async throws {
        try await APIHarness.withAPI(.sqlite, live: true, configure: { $0.snapshotInterval = .milliseconds(100) }) { api in
            let path = api.configuration.snapshotPath
            // The snapshot is written to PATH.tmp-PID first: pointed at /dev/full, every write fails with ENOSPC.
            let temporary = "\(path).tmp-\(getpid())"
            try FileManager.default.createSymbolicLink(atPath: temporary, withDestinationPath: "/dev/full")
            let admin = try await api.signUpAdmin("admin@example.com")
            let created = try await api.request(
                .post, "/api/knowledge", token: admin, json: #"{"title": "Vault", "body": "The vault log is kept for ten years."}"#)
            #expect(created.status == .created)

            var snapshot: [String: Any] = [:]
            for _ in 0..<100 where snapshot["status"] as? String != "failing" {
                try await Task.sleep(for: .milliseconds(50))
                snapshot = try await api.request(.get, "/readyz").body["snapshot"] as? [String: Any] ?? [:]
            }
            // /readyz is public: it says the snapshot fails, not where it lives or the error text (both are in the log).
            #expect(snapshot["status"] as? String == "failing" && (snapshot["failures"] as? Int ?? 0) >= 1 && snapshot["error"] == nil, "\(snapshot)")
            #expect(!FileManager.default.fileExists(atPath: path))
            // Still serving: ready, searching and writing.
            #expect(try await api.request(.get, "/readyz").status == .ok)
            let hits = try await api.request(.get, "/api/knowledge?q=vault%20log", token: admin).body["hits"] as? [[String: Any]]
            #expect(hits?.isEmpty == false)
            #expect(try await api.request(.post, "/api/knowledge", token: admin, json: #"{"title": "Keys", "body": "Two keys."}"#).status == .created)
            let metrics = String(decoding: try await api.client.execute(uri: "/metrics", method: .get) { Data($0.body.readableBytesView) }, as: UTF8.self)
            #expect(metrics.contains("omnifin_snapshot_failing 1"), "\(metrics)")

            // Room again: the next attempt writes the snapshot.
            if FileManager.default.destinationOfSymbolicLinkExists(atPath: temporary) { try FileManager.default.removeItem(atPath: temporary) }
            for _ in 0..<100 where snapshot["status"] as? String != "ok" {
                try await Task.sleep(for: .milliseconds(50))
                snapshot = try await api.request(.get, "/readyz").body["snapshot"] as? [String: Any] ?? [:]
            }
            #expect(snapshot["status"] as? String == "ok" && snapshot["generation"] as? Int == Int(api.bank.generation), "\(snapshot)")
            #expect(FileManager.default.fileExists(atPath: path))
        }
    }
}

extension FileManager {
    /// Whether a symbolic link exists at `path` (whatever it points at).
    func destinationOfSymbolicLinkExists(atPath path: String) -> Bool { (try? destinationOfSymbolicLink(atPath: path)) != nil }
}
