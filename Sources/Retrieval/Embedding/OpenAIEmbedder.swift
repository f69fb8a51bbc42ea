public import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// Embeddings from an OpenAI-compatible `POST /v1/embeddings`.
///
/// Texts go out in batches of ``batchSize``, at most ``maxConcurrentRequests`` at a time. 429 and 5xx answers,
/// timeouts and connection failures are retried with exponential backoff and jitter, honouring `Retry-After`;
/// other 4xx answers fail at once with a message naming the setting to fix. The dimension is learned from the
/// first answer and every later answer is checked against it.
public final class OpenAIEmbedder: Embedder {
    public let configuration: LLMAPIConfiguration
    public let modelName: String
    public let batchSize: Int
    public let maxConcurrentRequests: Int
    private let client: HTTPClient
    private let learnedDimension = Mutex<Int?>(nil)

    public var dimension: Int? { learnedDimension.withLock { $0 } }

    /// - Parameters:
    ///   - model: `OMNIFIN_EMBEDDING_MODEL`, e.g. `text-embedding-3-small`.
    ///   - batchSize: texts per request.
    ///   - maxConcurrentRequests: requests in flight at once.
    /// - Throws: ``EmbeddingError`` `.invalidConfiguration` for a malformed base URL or empty model.
    public init(
        configuration: LLMAPIConfiguration, model: String, batchSize: Int = 64, maxConcurrentRequests: Int = 4,
        client: HTTPClient = .shared
    ) throws {
        guard let url = URL(string: configuration.url("embeddings")), let scheme = url.scheme, ["http", "https"].contains(scheme),
            url.host != nil
        else {
            throw EmbeddingError(
                .invalidConfiguration, "OMNIFIN_LLM_BASE_URL '\(configuration.baseURL)' is not an http(s) URL such as https://api.openai.com")
        }
        guard !model.isEmpty else { throw EmbeddingError(.invalidConfiguration, "OMNIFIN_EMBEDDING_MODEL is empty") }
        guard batchSize >= 1, maxConcurrentRequests >= 1 else {
            throw EmbeddingError(.invalidConfiguration, "the batch size and the request concurrency must be at least 1")
        }
        self.configuration = configuration
        self.modelName = model
        self.batchSize = batchSize
        self.maxConcurrentRequests = maxConcurrentRequests
        self.client = client
    }

    public func embed(_ texts: [String]) async throws -> [[Float]] {
        if texts.isEmpty { return [] }
        let batches = stride(from: 0, to: texts.count, by: batchSize).map { start in Array(texts[start..<min(start + batchSize, texts.count)]) }
        var results = [[[Float]]](repeating: [], count: batches.count)
        try await withThrowingTaskGroup(of: (Int, [[Float]]).self) { group in
            var next = 0
            func launch() {
                let index = next
                let batch = batches[index]
                group.addTask { (index, try await self.embedBatch(batch)) }
                next += 1
            }
            while next < min(maxConcurrentRequests, batches.count) { launch() }
            while let (index, vectors) = try await group.next() {
                results[index] = vectors
                if next < batches.count { launch() }
            }
        }
        return results.flatMap { $0 }
    }

    private struct Request: Encodable {
        var model: String
        var input: [String]
        var encoding_format = "float"
    }

    private struct Response: Decodable {
        struct Item: Decodable {
            var embedding: [Float]
            var index: Int
        }
        var data: [Item]
    }

    private func embedBatch(_ texts: [String]) async throws -> [[Float]] {
        let body = try JSONEncoder().encode(Request(model: modelName, input: texts))
        let data = try await configuration.withRetries { attempt in
            do {
                return try await withDeadline(seconds: configuration.timeout) { try await self.send(body) }
            } catch let failure as RetryableFailure {
                throw RetryableFailure(unavailable(attempt: attempt, reason: "\(failure.error)"), retryAfter: failure.retryAfter)
            } catch let error as EmbeddingError {
                throw error
            } catch {
                throw RetryableFailure(unavailable(attempt: attempt, reason: "the request failed: \(error)"))
            }
        }
        return try decode(data, expected: texts.count)
    }

    /// What is thrown when the retries are spent.
    private func unavailable(attempt: Int, reason: String) -> EmbeddingError {
        EmbeddingError(.apiUnavailable, "the embeddings API at \(configuration.url("embeddings")) failed \(attempt + 1) times; last: \(reason)")
    }

    /// Runs `work` with one deadline for the whole exchange: AsyncHTTPClient's own timeout stops at the response
    /// head, and a server that sends headers and then stalls the body must not hold a request forever.
    private func withDeadline(seconds: Double, _ work: @escaping @Sendable () async throws -> Data) async throws -> Data {
        try await withThrowingTaskGroup(of: Data.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                throw RetryableFailure(Reason(text: "no complete answer within \(seconds) s"))
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// The text of a retryable failure, quoted in ``EmbeddingError`` when the retries are spent.
    private struct Reason: Error, CustomStringConvertible {
        var text: String
        var description: String { text }
    }

    private func send(_ body: Data) async throws -> Data {
        var request = configuration.request("embeddings", method: .POST)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: .milliseconds(Int64(configuration.timeout * 1000)))
        let data = Data(try await response.body.collect(upTo: 256 << 20).readableBytesView)
        let status = response.status.code
        if (200..<300).contains(status) { return data }
        let detail = LLMAPIConfiguration.providerDetail(data)
        if status == 429 || status == 408 || status >= 500 {
            throw RetryableFailure(Reason(text: "HTTP \(status): \(detail)"), retryAfter: LLMAPIConfiguration.retryAfter(response.headers))
        }
        let hint: String
        switch status {
        case 401, 403: hint = "the API key was refused: check OMNIFIN_LLM_API_KEY"
        case 404: hint = "model '\(modelName)' or the endpoint was not found: check OMNIFIN_EMBEDDING_MODEL and OMNIFIN_LLM_BASE_URL"
        default: hint = "the request was refused: check OMNIFIN_EMBEDDING_MODEL and OMNIFIN_LLM_BASE_URL"
        }
        throw EmbeddingError(.apiRejected, "\(hint) (HTTP \(status): \(detail))")
    }

    private func decode(_ data: Data, expected: Int) throws -> [[Float]] {
        guard let response = try? JSONDecoder().decode(Response.self, from: data) else {
            throw EmbeddingError(.apiInvalidResponse, "the embeddings API answered something that is not an embeddings response")
        }
        guard response.data.count == expected, Set(response.data.map(\.index)) == Set(0..<expected) else {
            throw EmbeddingError(.apiInvalidResponse, "the embeddings API returned \(response.data.count) vectors for \(expected) texts")
        }
        let vectors = response.data.sorted { $0.index < $1.index }.map(\.embedding)
        let dimension = vectors[0].count
        guard dimension > 0, vectors.allSatisfy({ $0.count == dimension }) else {
            throw EmbeddingError(.apiInvalidResponse, "the embeddings API returned vectors of differing lengths")
        }
        try learnedDimension.withLock { (known: inout Int?) throws(EmbeddingError) in
            if let known, known != dimension {
                throw EmbeddingError(
                    .apiInvalidResponse, "model '\(modelName)' returned \(dimension)-d vectors after \(known)-d ones; has the model changed?")
            }
            known = dimension
        }
        return try vectors.map { vector in
            guard vector.allSatisfy(\.isFinite) else { throw EmbeddingError(.apiInvalidResponse, "the embeddings API returned a non-finite value") }
            let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return norm > 0 ? vector.map { $0 / norm } : vector
        }
    }
}
