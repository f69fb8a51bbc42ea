import AsyncHTTPClient
public import Foundation
public import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// llama.cpp's `llama-server`, run by Omnifin as a supervised child process on a free loopback port: started with
/// the model file, checked healthy before use, restarted with backoff when it dies, stopped with Omnifin (and never
/// outliving it: see ``ChildProcess``), its log lines forwarded with the prefix `llama-server:`. Omnifin talks to it
/// through the same OpenAI-compatible client as to any external service.
public final class LlamaEngine: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// The GGUF model file.
        public var model: String
        /// The `llama-server` program.
        public var server: String
        /// Threads for generation and for reading the prompt.
        public var threads: Int
        /// The context window asked for, in tokens (the engine may give less: the model's own window).
        public var contextTokens: Int
        /// Serve `/v1/embeddings` (mean pooling) instead of chat.
        public var embeddings = false
        /// How long the model may take to load before the start counts as failed.
        public var startTimeout: Duration = .seconds(120)
        /// First pause before a restart; doubled after each failure up to ``maxBackoff``, back to this after a
        /// minute of good health.
        public var initialBackoff: Duration = .milliseconds(500)
        public var maxBackoff: Duration = .seconds(30)

        /// The release of llama.cpp `make llm` builds (`llama-cpp-python`'s source distribution on PyPI).
        public static let version = "0.3.36"

        public init(model: String, server: String, threads: Int = defaultThreads, contextTokens: Int = 4_096) {
            self.model = model
            self.server = server
            self.threads = threads
            self.contextTokens = contextTokens
        }

        /// One thread per core, at most 8 (generation is bound by memory bandwidth beyond that).
        public static var defaultThreads: Int { min(8, max(1, ProcessInfo.processInfo.activeProcessorCount)) }

        /// The `llama-server` that `make llm` builds: `~/.cache/omnifin/llama.cpp/VERSION/bin/llama-server`.
        public static func defaultServer(cacheDirectory: String?) -> String {
            (cacheDirectory ?? NSTemporaryDirectory() + "omnifin") + "/llama.cpp/\(version)/bin/llama-server"
        }

        /// The name answers are stored with: the model file's name without `.gguf`.
        public var modelName: String {
            var name = URL(fileURLWithPath: model).lastPathComponent
            if name.hasSuffix(".gguf") { name.removeLast(5) }
            return name
        }

        /// The command line of one start on `port`.
        func arguments(port: Int) -> [String] {
            var arguments = [
                "--model", model, "--host", "127.0.0.1", "--port", String(port), "--alias", modelName,
                "--threads", String(threads), "--threads-batch", String(threads), "--ctx-size", String(contextTokens),
                // One turn at a time: on a few cores, parallel slots only split the same arithmetic (the queue in
                // front of the engine holds the others).
                "--parallel", "1", "--no-webui", "--offline", "--metrics", "--log-verbosity", "3",
            ]
            if embeddings { arguments += ["--embeddings", "--pooling", "mean"] }
            return arguments
        }
    }

    public enum State: String, Sendable, Codable {
        /// Loading the model (first start).
        case starting
        /// Answers requests.
        case ready
        /// Died and is being started again.
        case restarting
        /// Stopped with Omnifin.
        case stopped
    }

    /// What `/api/chat/status` and the admin panel show.
    public struct Status: Sendable, Equatable {
        public var state: State
        public var model: String
        public var threads: Int
        /// The context window the engine reports (known once it is ready).
        public var contextTokens: Int?
        public var restarts: Int
        /// How the last run ended, when it did.
        public var lastExit: String?
        public var processID: Int32?
        public var port: Int?
    }

    public let configuration: Configuration
    /// The engine's API key, made up at each Omnifin start: only Omnifin may use the engine, not every local user or
    /// a web page in a browser on this machine (llama-server allows every origin). Passed in its environment, which
    /// other users cannot read, unlike its command line.
    public let apiKey: String
    let logger: Logger
    private let state: Mutex<Status>
    private let readyAt = Mutex<ContinuousClock.Instant?>(nil)

    public init(_ configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        var generator = SystemRandomNumberGenerator()
        apiKey = (0..<4).map { _ in String(format: "%016llx", generator.next() as UInt64) }.joined()
        self.logger = logger
        state = Mutex(
            Status(state: .starting, model: configuration.model, threads: configuration.threads, contextTokens: nil, restarts: 0))
    }

    public var status: Status { state.withLock { $0 } }

    /// `http://127.0.0.1:PORT` of the current run (a restart may move it), or `nil` before the first start.
    public var baseURL: String? { status.port.map { "http://127.0.0.1:\($0)" } }

    /// Checks what can be checked before starting: the program and the model file.
    /// - Throws: ``EngineError`` naming the file that is missing.
    public func checkFiles() throws(EngineError) {
        guard FileManager.default.isExecutableFile(atPath: configuration.server) else {
            throw EngineError(
                "the llama.cpp engine \(configuration.server) is missing or not executable: run make llm, or set OMNIFIN_LLAMA_SERVER to a llama-server")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: configuration.model, isDirectory: &isDirectory) else {
            throw EngineError("the model file \(configuration.model) (--llm-model, OMNIFIN_LLM_MODEL) does not exist")
        }
        guard !isDirectory.boolValue else {
            throw EngineError("\(configuration.model) (--llm-model, OMNIFIN_LLM_MODEL) is a folder, not a GGUF model file")
        }
        guard FileManager.default.isReadableFile(atPath: configuration.model) else {
            throw EngineError("the model file \(configuration.model) (--llm-model, OMNIFIN_LLM_MODEL) cannot be read")
        }
    }

    /// Runs the engine until the calling task is cancelled: starts it, waits for it to become healthy, and starts it
    /// again with backoff whenever it ends. Cancelling stops it (SIGTERM, then SIGKILL after five seconds).
    public func run() async {
        var backoff = configuration.initialBackoff
        while !Task.isCancelled {
            let port: Int
            do {
                port = try Self.freePort()
            } catch {
                logger.error("llama-server: no free loopback port: \(error)")
                try? await Task.sleep(for: backoff)
                continue
            }
            let exit = await runOnce(port: port)
            if Task.isCancelled { break }
            let stayedUp = readyAt.withLock { $0.map { ContinuousClock.now - $0 } } ?? .zero
            if stayedUp > .seconds(60) { backoff = configuration.initialBackoff }
            state.withLock {
                $0.restarts += 1
                $0.lastExit = exit
            }
            logger.error("llama-server \(exit); starting it again in \(backoff)")
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, configuration.maxBackoff)
        }
        state.withLock {
            $0.state = .stopped
            $0.processID = nil
        }
    }

    /// Omnifin's environment without llama.cpp's own variables (`LLAMA_ARG_PORT` and the like would override what
    /// Omnifin sets), plus the API key.
    var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("LLAMA_") }
        environment["LLAMA_API_KEY"] = apiKey
        return environment
    }

    /// One run of the program on `port`: how it ended.
    private func runOnce(port: Int) async -> String {
        let logger = logger
        readyAt.withLock { $0 = nil }
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(configuration.server, arguments: configuration.arguments(port: port), environment: environment) { line in
                let lower = line.lowercased()
                if lower.contains("error") || lower.contains("failed") {
                    logger.warning("llama-server: \(line)")
                } else {
                    logger.debug("llama-server: \(line)")
                }
            }
        } catch {
            return "could not start: \(error)"
        }
        state.withLock {
            $0.processID = child.pid
            $0.port = port
        }
        logger.info("llama-server started (pid \(child.pid), port \(port), model \(configuration.model), \(configuration.threads) threads)")
        let health = Task { await self.becomeReady(port: port, child: child) }
        let exit = await withTaskCancellationHandler {
            await child.waitForExit()
        } onCancel: {
            Task { await child.stop() }
        }
        health.cancel()
        // Not ready from this moment: a question arriving now waits for the next start instead of trying the dead port.
        state.withLock {
            $0.state = Task.isCancelled ? .stopped : .restarting
            $0.processID = nil
            $0.lastExit = exit.description
        }
        return exit.description
    }

    /// Polls `/health` until the model is loaded, then reads the context window; stops the child when it takes
    /// longer than the start timeout.
    private func becomeReady(port: Int, child: ChildProcess) async {
        let deadline = ContinuousClock.now + configuration.startTimeout
        let base = "http://127.0.0.1:\(port)"
        while !Task.isCancelled, child.exitStatus == nil {
            if ContinuousClock.now > deadline {
                logger.error("llama-server did not load \(configuration.model) within \(configuration.startTimeout); stopping it")
                await child.stop()
                return
            }
            if let (status, _) = try? await Self.get(base + "/health", timeout: .seconds(2)), status == 200 {
                let context = try? await Self.contextWindow(base, apiKey: apiKey)
                readyAt.withLock { $0 = ContinuousClock.now }
                state.withLock {
                    $0.state = .ready
                    $0.contextTokens = context
                }
                logger.info("llama-server ready on port \(port) (context \(context.map(String.init) ?? "unknown") tokens)")
                return
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Waits until the engine answers, at most `timeout`.
    /// - Returns: whether it is ready.
    public func waitUntilReady(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while status.state != .ready {
            if ContinuousClock.now > deadline || Task.isCancelled || status.state == .stopped { return false }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return true
    }

    /// The number of tokens the model reads for `text` (the engine's own tokenizer, `POST /tokenize`).
    /// - Throws: ``EngineError`` when the engine does not answer.
    public func tokenCount(_ text: String) async throws -> Int {
        guard let base = baseURL else { throw EngineError("the llama.cpp engine has not started") }
        struct Body: Encodable { var content: String }
        struct Tokens: Decodable { var tokens: [Int] }
        let (status, data) = try await Self.post(
            base + "/tokenize", body: try JSONEncoder().encode(Body(content: text)), apiKey: apiKey, timeout: .seconds(10))
        guard status == 200, let tokens = try? JSONDecoder().decode(Tokens.self, from: data) else {
            throw EngineError("the llama.cpp engine could not count tokens (HTTP \(status))")
        }
        return tokens.tokens.count
    }

    /// The context window of one slot, from `GET /props`.
    static func contextWindow(_ base: String, apiKey: String) async throws -> Int? {
        struct Props: Decodable {
            struct Settings: Decodable { var n_ctx: Int? }
            var default_generation_settings: Settings?
        }
        let (status, data) = try await get(base + "/props", apiKey: apiKey, timeout: .seconds(5))
        guard status == 200 else { return nil }
        return try? JSONDecoder().decode(Props.self, from: data).default_generation_settings?.n_ctx
    }

    static func get(_ url: String, apiKey: String? = nil, timeout: Duration) async throws -> (Int, Data) {
        var request = HTTPClientRequest(url: url)
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        return try await send(request, timeout: timeout)
    }

    static func post(_ url: String, body: Data, apiKey: String? = nil, timeout: Duration) async throws -> (Int, Data) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: body))
        return try await send(request, timeout: timeout)
    }

    /// One request to the engine, tried a second time when the connection fails: the engine closes idle kept-alive
    /// connections, and a pooled one may be gone when it is reused.
    private static func send(_ request: HTTPClientRequest, timeout: Duration) async throws -> (Int, Data) {
        var attempt = 0
        while true {
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .init(timeout))
                let data = try await response.body.collect(upTo: 16 << 20)
                return (Int(response.status.code), Data(data.readableBytesView))
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                attempt += 1
                if attempt > 1 { throw error }
            }
        }
    }

    /// A port on 127.0.0.1 that nothing listens on now (the kernel's choice for port 0).
    static func freePort() throws(EngineError) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw EngineError("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw -> Bool in
                bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard bound else { throw EngineError("bind: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// The local engine cannot be used; the message says why and what to do.
public struct EngineError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
