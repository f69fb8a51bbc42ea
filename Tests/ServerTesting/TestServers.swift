public import Foundation
public import Redis

/// Why a test server could not be started.
public struct TestServerFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A self-signed certificate for 127.0.0.1, made with openssl, for TLS tests.
public enum SelfSignedCertificate {
    public static func make(in directory: URL) throws -> (certificate: String, key: String) {
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        guard openssl.terminationStatus == 0 else { throw TestServerFailure("openssl could not make a certificate") }
        return (certificate, key)
    }
}

/// The Redis that `make test` starts on loopback (scripts/test-redis.sh); a test that needs it fails when it is missing.
public enum TestRedis {
    public struct Missing: Error, CustomStringConvertible {
        public var description: String { "OMNIFIN_TEST_REDIS_URL is not set: run the tests with make test (it starts Redis on 127.0.0.1:56379)" }
    }

    public static func configuration() throws -> RedisClient.Configuration {
        guard let url = ProcessInfo.processInfo.environment["OMNIFIN_TEST_REDIS_URL"], !url.isEmpty else { throw Missing() }
        return try RedisClient.Configuration(url: url)
    }

    /// A prefix no other test run uses, so keys from earlier runs cannot interfere.
    public static func prefix() -> String { "omnifin-test-\(UUID().uuidString.prefix(8)):" }

    /// A redis-server of the test's own, on a free port, that the test may stop and start again.
    public final class OwnServer: @unchecked Sendable {
        public let port: Int
        private var process: Process?

        public init() {
            port = 20_000 + Int.random(in: 0..<20_000)
        }

        public func start() throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
            process.arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            self.process = process
        }

        public func stop() {
            guard let process else { return }
            kill(process.processIdentifier, SIGKILL)
            for _ in 0..<100 where process.isRunning { usleep(20_000) }
            self.process = nil
        }

        public func waitUntilUp() async throws {
            let client = RedisClient(RedisClient.Configuration(host: "127.0.0.1", port: port))
            for _ in 0..<100 {
                if (try? await client.ping()) != nil { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            await client.shutdown()
        }
    }
}

/// A real SMTP server (aiosmtpd, `Fixtures/smtp_server.py`) with STARTTLS and AUTH, on loopback.
public final class TestSMTPServer: Sendable {
    public let port: Int
    public let folder: URL
    let directory: URL
    let process: Process
    let input: Pipe

    /// Starts the server in a temporary folder of its own, which `stop()` removes.
    public static func start() throws -> TestSMTPServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-smtp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        do {
            return try start(in: directory)
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    private static func start(in directory: URL) throws -> TestSMTPServer {
        guard let python = ProcessInfo.processInfo.environment["OMNIFIN_TEST_PYTHON"], FileManager.default.isExecutableFile(atPath: python) else {
            throw TestServerFailure("OMNIFIN_TEST_PYTHON is not set: run the tests with `make test`, which installs aiosmtpd into ~/.cache/omnifin/api-venv")
        }
        let (certificate, key) = try SelfSignedCertificate.make(in: directory)
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
            throw TestServerFailure("the test SMTP server did not start: \(ready)")
        }
        return TestSMTPServer(port: port, folder: folder, directory: directory, process: process, input: input)
    }

    private init(port: Int, folder: URL, directory: URL, process: Process, input: Pipe) {
        self.port = port
        self.folder = folder
        self.directory = directory
        self.process = process
        self.input = input
    }

    /// The `OMNIFIN_MAIL` address of this server, as user `omnifin` (whose password is `s3cret pass`).
    public func url(password: String = "s3cret%20pass") -> String {
        "smtp://omnifin:\(password)@127.0.0.1:\(port)?from=finance-bot@example.com"
    }

    public func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    /// The received messages with their envelopes, oldest first, waiting up to five seconds for `count`.
    public func messages(atLeast count: Int) async throws -> [(text: String, envelope: [String: Any])] {
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
