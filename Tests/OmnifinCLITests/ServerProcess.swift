import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `omnifin serve` as a child process on a port of its own, with its log in a file (a pipe could fill up and stall it).
final class ServerProcess: @unchecked Sendable {
    let port: Int
    let directory: URL
    let database: String
    private let extraArguments: [String]
    private let extraEnvironment: [String: String]
    private(set) var process: Process?
    private(set) var starts = 0

    init(directory: URL, database: String, arguments: [String] = [], environment: [String: String] = [:]) {
        self.directory = directory
        self.database = database
        extraArguments = arguments
        extraEnvironment = environment
        port = 20_000 + Int.random(in: 0..<20_000)
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var snapshotPath: String { directory.appendingPathComponent("index.hnsw").path }
    func logPath(_ start: Int) -> String { directory.appendingPathComponent("serve-\(start).log").path }

    /// Starts the server and waits for `/readyz`; returns its readiness document.
    @discardableResult
    func start() async throws -> [String: Any] {
        starts += 1
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = ["serve", "--port", "\(port)", "--database", database, "--snapshot", snapshotPath] + extraArguments
        var environment = ProcessInfo.processInfo.environment
        environment["OMNIFIN_MAIL"] = "file:" + directory.appendingPathComponent("mail").path
        environment["OMNIFIN_DATA_KEY_FILE"] = directory.appendingPathComponent("data.key").path
        environment["OMNIFIN_DEMO_DIR"] = CLI.repository.appendingPathComponent("corpora").path
        environment["OMNIFIN_RATE_LIMIT_PER_MINUTE"] = "0"
        for (key, value) in extraEnvironment { environment[key] = value }
        process.environment = environment
        FileManager.default.createFile(atPath: logPath(starts), contents: nil)
        let logFile = FileHandle(forWritingAtPath: logPath(starts))
        process.standardOutput = logFile
        process.standardError = logFile
        try process.run()
        self.process = process
        for _ in 0..<300 {
            try await Task.sleep(for: .milliseconds(200))
            guard process.isRunning else { break }
            if let (data, response) = try? await URLSession.shared.data(from: URL(string: baseURL + "/readyz")!),
                (response as? HTTPURLResponse)?.statusCode == 200, let ready = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            {
                return ready
            }
        }
        throw Failure(description: "the server did not become ready; its log:\n" + log(of: starts).suffix(3000))
    }

    func log(of start: Int) -> String { (try? String(contentsOfFile: logPath(start), encoding: .utf8)) ?? "" }

    /// SIGKILL: no shutdown code runs.
    func kill9() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM and wait: the graceful shutdown (the snapshot is written).
    func stop() {
        guard let process, process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// One HTTP request; the status and the JSON body (empty when there is none).
    func request(_ method: String, _ path: String, token: String? = nil, json: String? = nil) async throws -> (status: Int, body: [String: Any]) {
        var request = URLRequest(url: URL(string: baseURL + path)!)
        request.httpMethod = method
        request.timeoutInterval = 30
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(json.utf8)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let body = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, body)
    }

    /// Signs in the account made with `omnifin admin create-user`.
    func signIn(_ email: String, _ password: String) async throws -> String {
        let reply = try await request("POST", "/api/auth/login", json: #"{"email": "\#(email)", "password": "\#(password)"}"#)
        guard let token = reply.body["token"] as? String else { throw Failure(description: "sign-in failed: \(reply)") }
        return token
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }
}
