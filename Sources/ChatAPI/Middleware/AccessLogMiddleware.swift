import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Retrieval
import Storage

/// One log line per request (method, path, status, milliseconds) under the request's logger, whose
/// metadata carries the request id; the same id goes back to the client as `X-Request-Id`.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    static let header = HTTPField.Name("X-Request-Id")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        var status = 500
        defer {
            let milliseconds = Int(((ContinuousClock.now - started).inSeconds * 1000).rounded())
            context.logger.info(
                "\(request.method) \(request.uri.path) \(status) \(milliseconds) ms",
                metadata: ["status": "\(status)", "duration_ms": "\(milliseconds)"])
        }
        do {
            var response = try await next(request, context)
            status = response.status.code
            response.headers[Self.header] = context.id
            return response
        } catch let error as APIError {
            status = error.status.code
            var tagged = error
            tagged.headers[Self.header] = context.id
            throw tagged
        }
    }
}
