import ChatAPI
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Retrieval
import Storage
import StoreTesting
import ServerTesting
import Testing

@Suite("TLS, request ids, log files", .serialized)
struct TLSAndLoggingTests {
    /// A self-signed certificate for 127.0.0.1, made with openssl for this test.

    @Test("with OMNIFIN_TLS_CERT and OMNIFIN_TLS_KEY the server speaks HTTPS and sends HSTS; a bad pair fails clearly")
    func https() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (certificate, key) = try SelfSignedCertificate.make(in: directory)
        let store = try SQLiteStore(path: directory.appendingPathComponent("omnifin.db").path)
        let embedder = try APIHarness.embedder.get()
        let (bank, _) = try await KnowledgeBank.open(store: store, embedder: embedder, chunker: KnowledgeBank.defaultChunker(for: embedder))
        var configuration = ServerConfiguration(
            port: 0, snapshotPath: directory.appendingPathComponent("index.hnsw").path, mailDirectory: directory.appendingPathComponent("mail").path,
            bcryptCost: 4, dataKeyFile: directory.appendingPathComponent("data.key").path)
        configuration.tlsCertificatePath = certificate
        configuration.tlsKeyPath = key
        let app = try await buildApplication(store: store, bank: bank, configuration: configuration, logger: Logger(label: "omnifin.test"))
        try await app.test(.ahc(.https)) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("Strict-Transport-Security")!]?.contains("max-age=") == true)
                #expect(response.headers[HTTPField.Name("X-Request-Id")!]?.isEmpty == false)
            }
        }
        configuration.tlsKeyPath = certificate
        await #expect(throws: ServerConfiguration.Invalid.self) {
            _ = try await buildApplication(store: store, bank: bank, configuration: configuration, logger: Logger(label: "omnifin.test"))
        }
        #expect(throws: ServerConfiguration.Invalid.self) { try ServerConfiguration.fromEnvironment(["OMNIFIN_TLS_CERT": certificate]) }
        await store.close()
    }

    @Test("every response, errors too, carries X-Request-Id")
    func requestIDs() async throws {
        try await APIHarness.withAPI(.sqlite) { api in
            let ok = try await api.request(.get, "/healthz")
            let denied = try await api.request(.get, "/api/auth/profile")
            let okID = try #require(ok.headers[HTTPField.Name("X-Request-Id")!])
            let deniedID = try #require(denied.headers[HTTPField.Name("X-Request-Id")!])
            #expect(denied.status == .unauthorized && okID != deniedID)
        }
    }

    @Test("the log file is JSON lines and rotates by size, keeping the newest files")
    func rotation() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-log-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("omnifin.log").path
        let file = try RotatingLogFile(path: path, maximumBytes: 4096, keep: 2)
        var logger = Logger(label: "omnifin.test") { label in JSONLogHandler(label: label, file: file) }
        logger[metadataKey: "hb.request.id"] = "abc123"
        for index in 0..<200 { logger.info("request \(index) done", metadata: ["status": "200"]) }
        let current = try String(contentsOfFile: path, encoding: .utf8)
        let lines = current.split(separator: "\n")
        let last = try #require(try JSONSerialization.jsonObject(with: Data(lines.last!.utf8)) as? [String: Any])
        #expect(last["message"] as? String == "request 199 done" && last["hb.request.id"] as? String == "abc123" && last["level"] as? String == "info")
        #expect(last["status"] as? String == "200" && last["label"] as? String == "omnifin.test")
        #expect(current.utf8.count <= 4096)
        #expect(FileManager.default.fileExists(atPath: path + ".1") && FileManager.default.fileExists(atPath: path + ".2"))
        #expect(!FileManager.default.fileExists(atPath: path + ".3"))
    }
}

@Suite("Server configuration")
struct ServerConfigurationTests {
    @Test("OMNIFIN_HNSW_EF_SEARCH sets the HNSW search breadth; anything but a whole number in 1...10000 is refused")
    func efSearch() throws {
        #expect(try ServerConfiguration.fromEnvironment([:]).efSearch == 96)
        #expect(try ServerConfiguration.fromEnvironment(["OMNIFIN_HNSW_EF_SEARCH": "64"]).efSearch == 64)
        for bad in ["0", "-5", "10001", "many", "64.5"] {
            #expect(throws: ServerConfiguration.Invalid.self) { try ServerConfiguration.fromEnvironment(["OMNIFIN_HNSW_EF_SEARCH": bad]) }
        }
    }
}
