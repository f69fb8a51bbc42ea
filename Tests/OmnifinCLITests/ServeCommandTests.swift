import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

@Suite("omnifin serve")
struct ServeCommandTests {
    @Test("serves the demo knowledge, answers a question, exports store and embedder timings, logs JSON, saves the snapshot on SIGTERM")
    func servesAndShutsDown() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = 20_000 + Int(getpid() % 20_000)
        let database = "sqlite:" + directory.appendingPathComponent("omnifin.db").path
        let created = try CLI.run(["admin", "create-user", "--database", database, "--email", "ops@example.com", "--password", "a long passphrase", "--role", "admin"])
        #expect(created.status == 0, "\(created.error)")
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = ["serve", "--port", "\(port)", "--database", database, "--snapshot", directory.appendingPathComponent("index.hnsw").path, "--demo"]
        var environment = ProcessInfo.processInfo.environment
        environment["OMNIFIN_MAIL"] = "file:" + directory.appendingPathComponent("mail").path
        environment["OMNIFIN_DATA_KEY_FILE"] = directory.appendingPathComponent("data.key").path
        environment["OMNIFIN_DEMO_DIR"] = CLI.repository.appendingPathComponent("corpora").path
        environment["OMNIFIN_LOG_FILE"] = directory.appendingPathComponent("log/omnifin.log").path
        process.environment = environment
        let log = Pipe()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        var ready: [String: Any]?
        for _ in 0..<150 where ready == nil {
            try await Task.sleep(for: .milliseconds(200))
            if let (data, response) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/readyz")!),
                (response as? HTTPURLResponse)?.statusCode == 200
            {
                ready = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            }
        }
        let readiness = try #require(ready, "the server did not become ready")
        let demoFiles = try FileManager.default.contentsOfDirectory(atPath: CLI.repository.appendingPathComponent("corpora").path)
            .filter { $0.hasSuffix(".md") && $0 != "README.md" }
        #expect(readiness["documents"] as? Int == demoFiles.count && readiness["vectors"] as? Int == readiness["passages"] as? Int)

        // A question answered from the demo knowledge, then the timings it caused in /metrics.
        var login = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/auth/login")!)
        login.httpMethod = "POST"
        login.setValue("application/json", forHTTPHeaderField: "Content-Type")
        login.httpBody = Data(#"{"email": "ops@example.com", "password": "a long passphrase"}"#.utf8)
        let (session, _) = try await URLSession.shared.data(for: login)
        let token = try #require((try JSONSerialization.jsonObject(with: session) as? [String: Any])?["token"] as? String)
        var ask = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/chat/message")!)
        ask.httpMethod = "POST"
        ask.setValue("application/json", forHTTPHeaderField: "Content-Type")
        ask.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        ask.httpBody = Data(#"{"message": "What is the approval limit for invoices?"}"#.utf8)
        let (answerData, _) = try await URLSession.shared.data(for: ask)
        let answer = try #require(try JSONSerialization.jsonObject(with: answerData) as? [String: Any])
        #expect(answer["grounded"] as? Bool == true && (answer["answer"] as? String)?.contains("10,000 EUR") == true, "\(answer)")
        let (metricsData, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!)
        let metrics = String(decoding: metricsData, as: UTF8.self)
        #expect(metrics.contains("omnifin_embedder_duration_seconds_count{model=\"all-MiniLM-L6-v2\",purpose=\"query\"}"))
        let storeLines = metrics.split(separator: "\n").filter { $0.hasPrefix("omnifin_store_query_duration_seconds_count{") }
        #expect(storeLines.contains { $0.contains("appendMessages") && $0.contains("store=\"sqlite\"") }, "\(storeLines)")

        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/knowledge?q=payment%20runs")!)
        request.setValue("Bearer nothing", forHTTPHeaderField: "Authorization")
        let (_, denied) = try await URLSession.shared.data(for: request)
        #expect((denied as? HTTPURLResponse)?.statusCode == 401)

        process.terminate()  // SIGTERM: graceful shutdown
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("index.hnsw").path))
        // The log file holds JSON lines, the access log among them with the request id.
        let logText = try String(contentsOf: directory.appendingPathComponent("log/omnifin.log"), encoding: .utf8)
        let entries = logText.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let chatLine = entries.first { ($0["message"] as? String)?.hasPrefix("POST /api/chat/message 200") == true }
        #expect(chatLine?["hb.request.id"] != nil && chatLine?["duration_ms"] != nil, "\(logText.suffix(2000))")
    }
}
