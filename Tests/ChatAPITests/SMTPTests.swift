@testable import ChatAPI
import Foundation
import HTTPTypes
import Storage
import StoreTesting
import Testing

/// A real SMTP server (aiosmtpd, `Fixtures/smtp_server.py`) with STARTTLS and AUTH, on loopback.
final class TestSMTPServer: Sendable {
    let port: Int
    let folder: URL
    let process: Process
    let input: Pipe

    static func start(in directory: URL) throws -> TestSMTPServer {
        guard let python = ProcessInfo.processInfo.environment["OMNIFIN_TEST_PYTHON"], FileManager.default.isExecutableFile(atPath: python) else {
            throw SMTPTransport.Failure(
                description: "OMNIFIN_TEST_PYTHON is not set: run the tests with `make test`, which installs aiosmtpd into ~/.cache/omnifin/api-venv")
        }
        let (certificate, key) = try TLSAndLoggingTests.selfSignedCertificate(in: directory)
        let folder = directory.appendingPathComponent("smtp")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/smtp_server.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [
            script.path, "--port", "0", "--folder", folder.path, "--cert", certificate, "--key", key, "--user", "omnifin", "--password",
            "s3cret pass",
        ]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        // "ready PORT": the server picks a free port itself (a random one collided with ephemeral ports now and then).
        var ready = ""
        while !ready.contains("\n") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            ready += String(decoding: chunk, as: UTF8.self)
        }
        guard let line = ready.split(separator: "\n").first(where: { $0.hasPrefix("ready ") }), let port = Int(line.dropFirst(6)) else {
            process.terminate()
            throw SMTPTransport.Failure(description: "the test SMTP server did not start: \(ready)")
        }
        return TestSMTPServer(port: port, folder: folder, process: process, input: input)
    }

    private init(port: Int, folder: URL, process: Process, input: Pipe) {
        self.port = port
        self.folder = folder
        self.process = process
        self.input = input
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    /// The received messages with their envelopes, oldest first, waiting up to five seconds for `count`.
    func messages(atLeast count: Int) async throws -> [(text: String, envelope: [String: Any])] {
        for _ in 0..<100 {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
            if names.count >= count {
                return try names.map { name in
                    let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
                    let meta = try Data(contentsOf: folder.appendingPathComponent(name.replacingOccurrences(of: ".eml", with: ".json")))
                    return (text, try JSONSerialization.jsonObject(with: meta) as? [String: Any] ?? [:])
                }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return []
    }
}

@Suite("Mail over SMTP", .serialized)
struct SMTPTests {
    static func url(_ server: TestSMTPServer, password: String = "s3cret%20pass") -> String {
        "smtp://omnifin:\(password)@127.0.0.1:\(server.port)?from=finance-bot@example.com"
    }

    @Test("STARTTLS, AUTH PLAIN, dot-stuffing and UTF-8 against a real SMTP server; a wrong password fails without showing it")
    func delivers() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-smtp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try TestSMTPServer.start(in: directory)
        defer { server.stop() }

        var transport = try SMTPTransport.parse(Self.url(server))
        transport.verifyCertificates = false
        #expect(transport.description == "smtp://omnifin:•••@127.0.0.1:\(server.port)" && transport.sender == "finance-bot@example.com")
        let message = OutboxMessage(
            id: 7, kind: "verification", recipient: "ada@example.com", subject: "Bestätigung", body: "Hello,\n.\n.hidden line\nbye",
            createdAt: Date(), nextAttemptAt: Date())
        try await transport.deliver(message)
        let received = try await server.messages(atLeast: 1)
        let first = try #require(received.first)
        #expect(first.envelope["tls"] as? Bool == true && first.envelope["authenticated"] as? Bool == true)
        #expect(first.envelope["from"] as? String == "finance-bot@example.com" && first.envelope["to"] as? [String] == ["ada@example.com"])
        #expect(first.text.contains("Subject: =?utf-8?B?") && first.text.contains("\r\n.\r\n.hidden line\r\nbye"))

        var wrong = try SMTPTransport.parse(Self.url(server, password: "guess"))
        wrong.verifyCertificates = false
        do {
            try await wrong.deliver(message)
            Issue.record("a wrong password was accepted")
        } catch let error as SMTPTransport.Failure {
            #expect(error.description.contains("AUTH PLAIN •••") && !error.description.contains("guess"), "\(error.description)")
        }
        // Certificates are checked by default: the self-signed one is refused.
        let strict = try SMTPTransport.parse(Self.url(server))
        await #expect(throws: (any Error).self) { try await strict.deliver(message) }
        #expect(throws: ServerConfiguration.Invalid.self) { try SMTPTransport.parse("smtp://") }
        #expect(throws: ServerConfiguration.Invalid.self) { try ServerConfiguration.fromEnvironment(["OMNIFIN_MAIL": "ftp://x"]) }
    }

    @Test("registration mail goes out through SMTP from the outbox; while the server is down it waits and is retried")
    func throughTheOutbox() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-smtp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try TestSMTPServer.start(in: directory)
        defer { server.stop() }
        let url = Self.url(server)
        try await APIHarness.withAPI(.sqlite, configure: { $0.smtpURL = url; $0.smtpVerifyCertificates = false }) { api in
            let registered = try await api.request(
                .post, "/api/auth/register", json: #"{"email": "ada@example.com", "password": "a long passphrase", "display_name": "Ada"}"#)
            #expect(registered.status == .created)
            let mail = try #require(try await server.messages(atLeast: 1).first)
            #expect(mail.text.contains("verify?token=") && mail.text.contains("To: <ada@example.com>"))
            var sent: [OutboxMessage] = []
            for _ in 0..<50 {
                sent = try await api.store.outbox(pendingOnly: false, limit: 10)
                if sent.first?.sentAt != nil { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(sent.first?.sentAt != nil)
        }
        server.stop()
        try await APIHarness.withAPI(.sqlite, configure: { $0.smtpURL = url; $0.smtpVerifyCertificates = false }) { api in
            _ = try await api.request(
                .post, "/api/auth/register", json: #"{"email": "bob@example.com", "password": "a long passphrase", "display_name": "Bob"}"#)
            var pending: [OutboxMessage] = []
            for _ in 0..<100 {
                pending = try await api.store.outbox(pendingOnly: true, limit: 10)
                if pending.first?.lastError != nil { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(pending.count == 1 && pending.first?.lastError?.contains("cannot connect to the SMTP server") == true)
        }
    }
}
