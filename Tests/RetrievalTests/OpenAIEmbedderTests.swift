import Foundation
import NIOHTTP1
import Synchronization
import Testing
@testable import Retrieval

/// Counts what the scripted server saw.
private final class ServerLog: Sendable {
    let requests = Mutex<[LoopbackHTTPServer.Request]>([])
    let inFlight = Mutex<(now: Int, most: Int)>((0, 0))
    var count: Int { requests.withLock { $0.count } }
    func record(_ request: LoopbackHTTPServer.Request) { requests.withLock { $0.append(request) } }
}

/// A deterministic fake embedding: `dimension` values from the text's bytes.
private func fakeVector(_ text: String, dimension: Int) -> [Double] {
    var values = [Double](repeating: 0.1, count: dimension)
    for (i, byte) in text.utf8.enumerated() { values[i % dimension] += Double(byte) / 100 }
    return values
}

/// An OpenAI-shaped embeddings answer, items in reverse order (clients must sort by `index`).
private func embeddingsAnswer(_ request: LoopbackHTTPServer.Request, dimension: Int = 8) -> LoopbackHTTPServer.Response {
    let inputs = request.json()?["input"] as? [String] ?? []
    let data = inputs.enumerated().reversed().map { index, text in
        ["object": "embedding", "index": index, "embedding": fakeVector(text, dimension: dimension)] as [String: Any]
    }
    return .json(["object": "list", "data": data, "model": "test-embed", "usage": ["prompt_tokens": 1, "total_tokens": 1]])
}

@Suite("OpenAI-compatible embeddings client")
struct OpenAIEmbedderTests {
    func configuration(_ server: LoopbackHTTPServer, retries: Int = 3) -> LLMAPIConfiguration {
        var configuration = LLMAPIConfiguration(baseURL: server.baseURL, apiKey: "test-key")
        configuration.maxRetries = retries
        configuration.initialBackoff = 0.01
        configuration.maxBackoff = 0.05
        configuration.timeout = 5
        return configuration
    }

    @Test("batches texts, sends model, key and input, and returns normalised vectors in order")
    func success() async throws {
        let log = ServerLog()
        let server = try await LoopbackHTTPServer.start { request in
            log.record(request)
            return embeddingsAnswer(request)
        }
        defer { Task { await server.stop() } }
        let embedder = try OpenAIEmbedder(configuration: configuration(server), model: "test-embed", batchSize: 64)
        #expect(embedder.dimension == nil)
        let texts = (0..<150).map { "invoice number \($0)" }
        let vectors = try await embedder.embed(texts)
        #expect(vectors.count == 150)
        #expect(embedder.dimension == 8)
        #expect(log.count == 3)
        let first = log.requests.withLock { $0[0] }
        #expect(first.path == "/v1/embeddings")
        #expect(first.method == .POST)
        #expect(first.headers.first(name: "Authorization") == "Bearer test-key")
        #expect(first.json()?["model"] as? String == "test-embed")
        for (text, vector) in zip(texts, vectors) {
            let expected = fakeVector(text, dimension: 8)
            let norm = expected.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for i in 0..<8 { #expect(abs(Double(vector[i]) - expected[i] / norm) < 1e-5) }
        }
    }

    @Test("429 with Retry-After and 5xx are retried, then succeed")
    func retriesTransientFailures() async throws {
        let log = ServerLog()
        let server = try await LoopbackHTTPServer.start { request in
            log.record(request)
            switch log.count {
            case 1: return .json(["error": ["message": "slow down"]], status: .tooManyRequests, headers: [("Retry-After", "0")])
            case 2: return .json(["error": ["message": "overloaded"]], status: .serviceUnavailable)
            default: return embeddingsAnswer(request)
            }
        }
        defer { Task { await server.stop() } }
        let embedder = try OpenAIEmbedder(configuration: configuration(server), model: "m")
        #expect(try await embedder.embed(["a", "b"]).count == 2)
        #expect(log.count == 3)
    }

    @Test("a provider that keeps failing gives up after the retries")
    func givesUp() async throws {
        let log = ServerLog()
        let server = try await LoopbackHTTPServer.start { request in
            log.record(request)
            return .json(["error": ["message": "boom"]], status: .internalServerError)
        }
        defer { Task { await server.stop() } }
        let embedder = try OpenAIEmbedder(configuration: configuration(server, retries: 2), model: "m")
        await #expect { try await embedder.embed(["a"]) } throws: { error in
            let error = error as? EmbeddingError
            return error?.code == .apiUnavailable && error?.message.contains("boom") == true
        }
        #expect(log.count == 3)
    }

    @Test("a refused key and an unknown model fail at once and name the setting", arguments: [(401, "OMNIFIN_LLM_API_KEY"), (404, "OMNIFIN_EMBEDDING_MODEL")])
    func rejected(status: Int, setting: String) async throws {
        let log = ServerLog()
        let server = try await LoopbackHTTPServer.start { request in
            log.record(request)
            return .json(["error": ["message": "nope"]], status: HTTPResponseStatus(statusCode: status))
        }
        defer { Task { await server.stop() } }
        let embedder = try OpenAIEmbedder(configuration: configuration(server), model: "m")
        await #expect { try await embedder.embed(["a"]) } throws: { error in
            let error = error as? EmbeddingError
            return error?.code == .apiRejected && error?.message.contains(setting) == true
        }
        #expect(log.count == 1)
    }

    @Test("garbage, a wrong count and a changed dimension are rejected")
    func invalidResponses() async throws {
        let mode = Mutex(0)
        let server = try await LoopbackHTTPServer.start { request in
            switch mode.withLock({ $0 }) {
            case 0: return LoopbackHTTPServer.Response(body: Data("<html>not json</html>".utf8))
            case 1: return .json(["data": [["index": 0, "embedding": [1.0, 2.0]]]])
            case 2: return embeddingsAnswer(request, dimension: 8)
            default: return embeddingsAnswer(request, dimension: 4)
            }
        }
        defer { Task { await server.stop() } }
        let embedder = try OpenAIEmbedder(configuration: configuration(server), model: "m")
        for step in 0..<4 {
            mode.withLock { $0 = step }
            if step == 2 {
                #expect(try await embedder.embed(["a", "b"]).count == 2)
                continue
            }
            await #expect { try await embedder.embed(["a", "b"]) } throws: { ($0 as? EmbeddingError)?.code == .apiInvalidResponse }
        }
    }

    /// Runs one embedding against `handler` with a 0.3 s timeout and one retry: it must fail as unavailable
    /// within `limit`.
    func expectTimesOut(within limit: Duration, _ handler: @escaping LoopbackHTTPServer.Handler) async throws {
        let server = try await LoopbackHTTPServer.start(handler)
        defer { Task { await server.stop() } }
        var settings = configuration(server, retries: 1)
        settings.timeout = 0.3
        let embedder = try OpenAIEmbedder(configuration: settings, model: "m")
        let start = ContinuousClock.now
        await #expect { try await embedder.embed(["a"]) } throws: { ($0 as? EmbeddingError)?.code == .apiUnavailable }
        #expect(ContinuousClock.now - start < limit)
    }

    @Test("a slow provider times out instead of hanging")
    func timeout() async throws {
        try await expectTimesOut(within: .seconds(2)) { request in
            try? await Task.sleep(for: .seconds(3))
            return embeddingsAnswer(request)
        }
    }

    @Test("a provider that sends headers and then stalls the body times out too")
    func stalledBody() async throws {
        try await expectTimesOut(within: .seconds(3)) { request in
            var response = embeddingsAnswer(request)
            response.stallAfterHead = true
            return response
        }
    }

    @Test("no more requests are in flight than allowed")
    func concurrencyLimit() async throws {
        let log = ServerLog()
        let server = try await LoopbackHTTPServer.start { request in
            log.inFlight.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
            try? await Task.sleep(for: .milliseconds(50))
            log.inFlight.withLock { $0.now -= 1 }
            return embeddingsAnswer(request)
        }
        defer { Task { await server.stop() } }
        let embedder = try OpenAIEmbedder(configuration: configuration(server), model: "m", batchSize: 2, maxConcurrentRequests: 2)
        #expect(try await embedder.embed((0..<20).map { "t\($0)" }).count == 20)
        let most = log.inFlight.withLock { $0.most }
        #expect(most >= 1 && most <= 2)
    }

    @Test("bad settings are refused up front")
    func badSettings() {
        #expect(throws: EmbeddingError.self) { try OpenAIEmbedder(configuration: LLMAPIConfiguration(baseURL: "not a url"), model: "m") }
        #expect(throws: EmbeddingError.self) { try OpenAIEmbedder(configuration: LLMAPIConfiguration(baseURL: "ftp://x"), model: "m") }
        #expect(throws: EmbeddingError.self) { try OpenAIEmbedder(configuration: LLMAPIConfiguration(baseURL: "http://x"), model: "") }
        #expect(LLMAPIConfiguration(baseURL: "http://h:1/v1/").url("embeddings") == "http://h:1/v1/embeddings")
        #expect(LLMAPIConfiguration(baseURL: "https://api.openai.com").url("embeddings") == "https://api.openai.com/v1/embeddings")
        #expect(LLMAPIConfiguration.fromEnvironment([:]) == nil)
        #expect(LLMAPIConfiguration.fromEnvironment(["OMNIFIN_LLM_BASE_URL": "http://h", "OMNIFIN_LLM_API_KEY": ""])?.apiKey == nil)
    }

    @Test("Retry-After is read as seconds or as an HTTP date")
    func retryAfter() {
        #expect(LLMAPIConfiguration.retryAfter(HTTPHeaders([("Retry-After", "7")])) == 7)
        #expect(LLMAPIConfiguration.retryAfter(HTTPHeaders([("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")])) == 0)
        #expect(LLMAPIConfiguration.retryAfter(HTTPHeaders()) == nil)
    }
}
