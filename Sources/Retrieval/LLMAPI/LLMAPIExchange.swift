public import AsyncHTTPClient
import Foundation
public import NIOHTTP1

/// An attempt that failed in a way worth trying again (429, 5xx, a timeout, a refused connection): thrown inside
/// ``LLMAPIConfiguration/withRetries(limit:_:)``, which pauses and runs the attempt again, or throws `error` when
/// the retries are spent.
public struct RetryableFailure: Error {
    public var error: any Error
    /// The provider's `Retry-After`, in seconds: the pause is never shorter.
    public var retryAfter: Double?

    public init(_ error: any Error, retryAfter: Double? = nil) {
        self.error = error
        self.retryAfter = retryAfter
    }
}

/// What the embedder, the chat generator and the speech clients share when they talk to an OpenAI-compatible API:
/// one retry loop, one backoff, one reading of `Retry-After` and of the provider's error message.
extension LLMAPIConfiguration {
    /// A request to `{base}/v1/{path}` that carries the API key, when there is one.
    public func request(_ path: String, method: HTTPMethod = .GET) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url(path))
        request.method = method
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        return request
    }

    /// Seconds to wait before retry number `attempt` (0 for the first retry): ``initialBackoff`` doubled each time,
    /// capped at ``maxBackoff``, with jitter so that replicas do not retry in step; never shorter than the
    /// provider's `Retry-After`, never longer than a minute.
    public func pause(beforeRetry attempt: Int, retryAfter: Double?) -> Double {
        let backoff = min(maxBackoff, initialBackoff * pow(2, Double(attempt))) * Double.random(in: 0.5...1)
        return min(max(retryAfter ?? 0, backoff), 60)
    }

    /// Runs `attempt` (given its number, 0 first) until it returns or throws something other than a
    /// ``RetryableFailure``; after `limit` retries (``maxRetries`` unless given) the last failure's `error` is thrown.
    public func withRetries<Value>(limit: Int? = nil, _ attempt: (_ number: Int) async throws -> Value) async throws -> Value {
        var number = 0
        while true {
            do {
                return try await attempt(number)
            } catch let failure as RetryableFailure {
                guard number < (limit ?? maxRetries) else { throw failure.error }
                try await Task.sleep(for: .seconds(pause(beforeRetry: number, retryAfter: failure.retryAfter)))
                number += 1
            }
        }
    }

    /// `Retry-After` in seconds, or as an HTTP date.
    public static func retryAfter(_ headers: HTTPHeaders) -> Double? {
        guard let value = headers.first(name: "Retry-After")?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Double(value) { return max(0, seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: value).map { max(0, $0.timeIntervalSinceNow) }
    }

    /// The `error.message` (or a string `error`) of an OpenAI-style error body, else `nil`.
    public static func providerMessage(_ body: some Sequence<UInt8>) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return nil }
        return (object["error"] as? [String: Any])?["message"] as? String ?? object["error"] as? String
    }

    /// ``providerMessage(_:)``, else the start of the body: what an error message quotes.
    public static func providerDetail(_ body: some Sequence<UInt8>, limit: Int = 300) -> String {
        let bytes = Array(body)
        return providerMessage(bytes) ?? String(decoding: bytes.prefix(limit), as: UTF8.self)
    }
}
