import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `omnifin serve` as an operator meets it: the first administrator from the setup link in the log, and a SIGTERM
/// in the middle of a long write that stops the process within 10 s and loses nothing (the job resumes).
@Suite("omnifin serve: setup and shutdown", .serialized)
struct ShutdownAndSetupTests {
    static func workFolder() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test("without an administrator the log prints a one-time setup link; it creates the first admin, once")
    func setupLink() async throws {
        let directory = try Self.workFolder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = ServerProcess(directory: directory, database: "sqlite:" + directory.appendingPathComponent("omnifin.db").path)
        try await server.start()
        defer { server.stop() }
        let log = server.log(of: 1)
        let range = try #require(log.range(of: "/setup?token="), "no setup link in the log:\n\(log.suffix(2000))")
        let token = String(log[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        // Not in invite mode's reach: registration is closed by default, and nobody is an admin yet.
        #expect(try await server.request("GET", "/api/auth/signup").body["mode"] as? String == "invite")
        #expect(try await server.request("GET", "/api/auth/signup").body["setup_pending"] as? Bool == true)
        let body = #"{"token": "\#(token)", "email": "boss@example.com", "password": "the boss passphrase", "display_name": "Boss"}"#
        let created = try await server.request("POST", "/api/auth/setup", json: body)
        #expect(created.status == 201 && created.body["role"] as? String == "admin", "\(created)")
        let again = try await server.request("POST", "/api/auth/setup", json: body.replacingOccurrences(of: "boss@", with: "eve@"))
        #expect(again.status == 403)
        let admin = try await server.signIn("boss@example.com", "the boss passphrase")
        #expect(try await server.request("GET", "/api/admin/users", token: admin).status == 200)
        #expect(try await server.request("GET", "/api/auth/signup").body["setup_pending"] as? Bool == false)
    }

    @Test("SIGTERM during a long background write: the process is gone within 10 s; the next start finishes the job")
    func sigtermDuringAJob() async throws {
        let directory = try Self.workFolder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = "sqlite:" + directory.appendingPathComponent("omnifin.db").path
        let created = try CLI.run(["admin", "create-user", "--database", database, "--email", "ops@example.com", "--password", "a long passphrase", "--role", "admin"])
        #expect(created.status == 0, "\(created.error)")
        let server = ServerProcess(
            directory: directory, database: database,
            environment: ["OMNIFIN_INLINE_DOCUMENT_BYTES": "4096", "OMNIFIN_IMPORT_DIR": directory.appendingPathComponent("imports").path])
        try await server.start()
        let token = try await server.signIn("ops@example.com", "a long passphrase")
        // About 300 KB of prose: tens of seconds of embedding on two cores.
        var text = ""
        var n = 1
        while text.utf8.count < 300_000 {
            n = (n &* 1_103_515_245 &+ 12_345) & 0x7fff_ffff
            text += "The controller reviews supplier invoice \(n % 100_000) against the purchase order before the payment run.\n"
        }
        let document = String(decoding: try JSONSerialization.data(withJSONObject: ["title": "Payment run memo", "body": text]), as: UTF8.self)
        let accepted = try await server.request("POST", "/api/knowledge", token: token, json: document)
        let job = try #require(accepted.body["job"] as? String, "\(accepted)")
        for _ in 0..<100 {
            if try await server.request("GET", "/api/knowledge/import/\(job)", token: token).body["status"] as? String == "running" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .seconds(1))
        let process = try #require(server.process)
        let signalled = ContinuousClock.now
        process.terminate()
        process.waitUntilExit()
        let seconds = Double((ContinuousClock.now - signalled).components.seconds)
        #expect(seconds < 10, "SIGTERM took \(seconds) s")
        #expect(process.terminationStatus == 0, "\(server.log(of: 1).suffix(2000))")

        // The next start resumes the interrupted job and completes it.
        try await server.start()
        defer { server.stop() }
        let again = try await server.signIn("ops@example.com", "a long passphrase")
        var report: [String: Any] = [:]
        for _ in 0..<1_200 {
            report = try await server.request("GET", "/api/knowledge/import/\(job)", token: again).body
            if ["completed", "failed", "cancelled"].contains(report["status"] as? String ?? "") { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(report["status"] as? String == "completed", "\(report)\n\(server.log(of: 2).suffix(2000))")
        let id = try #require((report["result"] as? [String: Any])?["document_id"] as? String)
        #expect(try await server.request("GET", "/api/knowledge/\(id)", token: again).body["title"] as? String == "Payment run memo")
    }
}
