import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Retrieval
import Synchronization

/// Answers through an OpenAI-compatible `POST /v1/chat/completions` with `stream: true` (OpenAI, vLLM,
/// llama.cpp server, Ollama): Server-Sent Events parsed as they arrive, retries with backoff until the first
/// token (never after: the client has seen it), a deadline for the first token and for every pause between
/// tokens, and errors that say which setting or which provider answer was wrong.
struct OpenAIChatGenerator: AnswerGenerator {
    /// The service (for the local engine: its timeouts and retries; the address is the engine's current one).
    let api: LLMAPIConfiguration
    let model: String
    /// The llama.cpp engine Omnifin runs, when it is what answers.
    var engine: LlamaEngine? = nil
    var temperature = 0.1
    var maxTokens = 700

    init(configuration: LLMAPIConfiguration, model: String, engine: LlamaEngine? = nil) {
        api = configuration
        self.model = model
        self.engine = engine
    }

    /// Where requests go now: the service, or the engine's loopback address (a restart may move it).
    var configuration: LLMAPIConfiguration {
        guard let engine, let base = engine.baseURL else { return api }
        var configuration = api
        configuration.baseURL = base
        configuration.apiKey = engine.apiKey
        return configuration
    }

    var name: String { "llm:\(model)" }

    struct ChatRequest: Encodable {
        struct Message: Encodable {
            var role: String
            var content: String
        }
        var model: String
        var messages: [Message]
        var stream: Bool
        var temperature: Double
        var max_tokens: Int
    }

    func generate(_ request: GenerationRequest) -> AsyncThrowingStream<String, any Error> {
        complete(prompt: request.prompt, stream: true)
    }

    /// The whole completion for `prompt` as one string (for query rewriting).
    func completion(_ prompt: String, maxTokens: Int = 100) async throws -> String {
        var generator = self
        generator.maxTokens = maxTokens
        var text = ""
        for try await token in generator.complete(prompt: prompt, stream: true) { text += token }
        return text
    }

    func checkReachable() async -> Bool {
        if let engine { return engine.status.state == .ready }
        guard let response = try? await HTTPClient.shared.execute(configuration.request("models"), timeout: .seconds(5)) else { return false }
        _ = try? await response.body.collect(upTo: 1 << 20)
        return response.status.code < 500 && response.status != .unauthorized
    }

    private func complete(prompt: String, stream: Bool) -> AsyncThrowingStream<String, any Error> {
        let (output, continuation) = AsyncThrowingStream<String, any Error>.makeStream()
        let body: Data
        do {
            body = try JSONEncoder().encode(
                ChatRequest(model: model, messages: [.init(role: "user", content: prompt)], stream: stream, temperature: temperature, max_tokens: maxTokens))
        } catch {
            continuation.finish(throwing: error)
            return output
        }
        let task = Task {
            do {
                try await run(body: body, continuation: continuation)
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return output
    }

    private func run(body: Data, continuation: AsyncThrowingStream<String, any Error>.Continuation) async throws {
        let url = configuration.url("chat/completions")
        try await configuration.withRetries { _ in
            let progress = Progress()
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await self.stream(body: body, url: url, progress: progress, continuation: continuation) }
                    group.addTask { try await self.watchdog(progress) }
                    defer { group.cancelAll() }
                    _ = try await group.next()
                }
            } catch let error as GenerationError where error.retryable && !progress.sawToken {
                throw RetryableFailure(error, retryAfter: error.retryAfter)
            }
        }
    }

    /// When the last bytes arrived and whether a token went out (after that, no retry).
    final class Progress: Sendable {
        private let state = Mutex<(last: ContinuousClock.Instant, token: Bool, head: Bool)>((ContinuousClock.now, false, false))
        func touch(token: Bool = false, head: Bool = false) {
            state.withLock {
                $0.last = ContinuousClock.now
                if token { $0.token = true }
                if head { $0.head = true }
            }
        }
        var sawToken: Bool { state.withLock { $0.token } }
        var snapshot: (last: ContinuousClock.Instant, token: Bool, head: Bool) { state.withLock { $0 } }
    }

    /// Fails with 504 when the provider is silent for longer than the timeout (before the first token or between tokens).
    private func watchdog(_ progress: Progress) async throws {
        let limit = Duration.milliseconds(Int(configuration.timeout * 1000))
        while true {
            try await Task.sleep(for: .milliseconds(100))
            let state = progress.snapshot
            if ContinuousClock.now - state.last > limit {
                throw GenerationError(
                    kind: .timedOut,
                    description: state.token
                        ? "the LLM API stopped sending tokens for \(configuration.timeout) s"
                        : "the LLM API at \(configuration.baseURL) sent no answer within \(configuration.timeout) s")
            }
        }
    }

    private func stream(body: Data, url: String, progress: Progress, continuation: AsyncThrowingStream<String, any Error>.Continuation) async throws {
        var request = configuration.request("chat/completions", method: .POST)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "text/event-stream")
        request.body = .bytes(ByteBuffer(bytes: body))
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(Int64(max(1, configuration.timeout.rounded(.up)))))
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            throw GenerationError(kind: .timedOut, description: "the LLM API at \(configuration.baseURL) sent no answer within \(configuration.timeout) s")
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw GenerationError(kind: .providerFailed, description: "cannot reach the LLM API at \(url): \(error)", retryable: true)
        }
        progress.touch(head: true)
        guard response.status == .ok else {
            let text = (try? await response.body.collect(upTo: 64 * 1024)).map { String(buffer: $0) } ?? ""
            let retryAfter = LLMAPIConfiguration.retryAfter(response.headers)
            let detail = LLMAPIConfiguration.providerMessage(Array(text.utf8)) ?? "HTTP \(response.status.code)"
            switch response.status.code {
            case 401, 403:
                throw GenerationError(kind: .providerFailed, description: "the LLM API refused the key (OMNIFIN_LLM_API_KEY): \(detail)")
            case 404:
                throw GenerationError(kind: .providerFailed, description: "the LLM API does not know the model '\(model)' (OMNIFIN_CHAT_MODEL): \(detail)")
            case 408, 409, 429, 500...599:
                throw GenerationError(kind: .providerFailed, description: "the LLM API failed: \(detail)", retryable: true, retryAfter: retryAfter)
            default:
                throw GenerationError(kind: .providerFailed, description: "the LLM API rejected the request: \(detail)")
            }
        }
        if response.headers.first(name: "Content-Type")?.contains("application/json") == true {
            // A server that ignores `stream: true` sends the whole completion at once.
            let whole = try await response.body.collect(upTo: 4 << 20)
            progress.touch()
            if let token = try Self.token(in: String(buffer: whole)), !token.isEmpty {
                progress.touch(token: true)
                continuation.yield(token)
            }
            return
        }
        var parser = ServerSentEventParser()
        var done = false
        do {
            for try await buffer in response.body {
                progress.touch()
                for data in parser.feed(String(buffer: buffer)) {
                    if data == "[DONE]" {
                        done = true
                        break
                    }
                    let token = try Self.token(in: data)
                    if let token, !token.isEmpty {
                        progress.touch(token: true)
                        continuation.yield(token)
                    }
                }
                if done { break }
            }
        } catch let error as GenerationError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // The connection broke under the stream (the server died or restarted).
            throw GenerationError(
                kind: .providerFailed, description: "the LLM API at \(configuration.baseURL) broke off the answer: \(error)", retryable: !progress.sawToken)
        }
        for data in parser.finish() where data != "[DONE]" {
            if let token = try Self.token(in: data), !token.isEmpty {
                progress.touch(token: true)
                continuation.yield(token)
            }
        }
    }

    private struct Chunk: Decodable {
        struct Choice: Decodable {
            struct Delta: Decodable { var content: String? }
            struct Message: Decodable { var content: String? }
            var delta: Delta?
            var message: Message?
        }
        var choices: [Choice]?
        var error: ErrorBody.Detail?
    }

    private struct ErrorBody: Decodable {
        struct Detail: Decodable { var message: String? }
        var error: Detail?
    }

    /// The content of one streamed chunk (or of a whole non-streamed answer).
    static func token(in data: String) throws -> String? {
        guard let chunk = try? JSONDecoder().decode(Chunk.self, from: Data(data.utf8)) else {
            throw GenerationError(kind: .providerFailed, description: "the LLM API sent something that is not a chat completion chunk: \(data.prefix(200))")
        }
        if let message = chunk.error?.message { throw GenerationError(kind: .providerFailed, description: "the LLM API failed mid-answer: \(message)") }
        guard let choice = chunk.choices?.first else { return nil }
        return choice.delta?.content ?? choice.message?.content
    }
}

/// Splits a Server-Sent Events byte stream into the `data` of its events, however the chunks are cut.
struct ServerSentEventParser {
    private var buffer = ""
    private var data: [String] = []

    /// The complete events in `text` (plus what was buffered); the rest waits for the next chunk.
    mutating func feed(_ text: String) -> [String] {
        buffer += text.replacingOccurrences(of: "\r\n", with: "\n")
        var events: [String] = []
        while let newline = buffer.firstIndex(of: "\n") {
            let line = String(buffer[..<newline])
            buffer = String(buffer[buffer.index(after: newline)...])
            if line.isEmpty {
                if !data.isEmpty { events.append(data.joined(separator: "\n")) }
                data = []
            } else if line.hasPrefix("data:") {
                var value = line.dropFirst(5)
                if value.first == " " { value = value.dropFirst() }
                data.append(String(value))
            }
        }
        return events
    }

    /// What is left when the stream ends without a final blank line.
    mutating func finish() -> [String] {
        var events = feed("\n")
        if !data.isEmpty { events.append(data.joined(separator: "\n")) }
        data = []
        if !buffer.isEmpty, buffer.hasPrefix("{") { events.append(buffer) }
        buffer = ""
        return events
    }
}
