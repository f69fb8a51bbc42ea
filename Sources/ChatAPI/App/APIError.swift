import Foundation
public import Hummingbird
import HTTPTypes
import NIOCore

/// An error the API answers with: a status and the JSON body `{"error": {"code", "message", "field"?}}`.
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var field: String?
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, code: String, _ message: String, field: String? = nil, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers
    }

    /// `{"error": {"code", "message", "field"?, "type", "param"?}}`: Omnifin's fields, and OpenAI's error shape beside
    /// them (`type` and `param`), so an OpenAI SDK pointed at `/v1` reads every error as it reads OpenAI's.
    struct Body: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
            var field: String?
            var type: String
            var param: String?
        }
        var error: Detail
    }

    /// OpenAI's error type for a status.
    var type: String {
        switch status.code {
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 429: "rate_limit_error"
        case 500...: "server_error"
        default: "invalid_request_error"
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(Body(error: .init(code: code, message: message, field: field, type: type, param: field)))
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func badRequest(_ message: String, field: String? = nil) -> APIError { APIError(.badRequest, code: "invalid_request", message, field: field) }
    static func notFound(_ message: String) -> APIError { APIError(.notFound, code: "not_found", message) }
    static let unauthorized = APIError(
        .unauthorized, code: "unauthorized", "a valid token is required: send Authorization: Bearer TOKEN, or the session cookie (POST /api/auth/login)",
        headers: [.wwwAuthenticate: "Bearer realm=\"omnifin\""])
    static func forbidden(_ message: String) -> APIError { APIError(.forbidden, code: "forbidden", message) }
    static func rateLimited(retryAfter seconds: Int) -> APIError {
        APIError(
            .tooManyRequests, code: "rate_limited", "too many requests; try again in \(seconds) s",
            headers: [HTTPField.Name("Retry-After")!: String(seconds)])
    }
}
