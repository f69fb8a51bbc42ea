import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

@Suite("omnifin serve")
struct ServeCommandTests {
    @Test("serves the demo knowledge, answers health checks and saves the snapshot on SIGTERM")
    func servesAndShutsDown() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = 20_000 + Int(getpid() % 20_000)
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = [
            "serve", "--port", "\(port)", "--database", "sqlite:" + directory.appendingPathComponent("omnifin.db").path,
            "--snapshot", directory.appendingPathComponent("index.hnsw").path, "--seed", CLI.repository.appendingPathComponent("corpora").path,
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["OMNIFIN_MAIL"] = "file:" + directory.appendingPathComponent("mail").path
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
        #expect(readiness["documents"] as? Int == 4 && readiness["vectors"] as? Int == readiness["passages"] as? Int)

        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/knowledge?q=payment%20runs")!)
        request.setValue("Bearer nothing", forHTTPHeaderField: "Authorization")
        let (_, denied) = try await URLSession.shared.data(for: request)
        #expect((denied as? HTTPURLResponse)?.statusCode == 401)

        process.terminate()  // SIGTERM: graceful shutdown
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("index.hnsw").path))
    }
}
