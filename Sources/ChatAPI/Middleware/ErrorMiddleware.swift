import Accounts
import Chat
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Retrieval
import Storage

/// Turns every error into the API's JSON error body, so no client mistake ends as an empty 500.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            let code: String =
                switch error.status {
                case .notFound: "not_found"
                case .unauthorized: "unauthorized"
                case .contentTooLarge: "body_too_large"
                case .methodNotAllowed: "method_not_allowed"
                default: "invalid_request"
                }
            let message = error.body ?? (error.status == .notFound ? "no route \(request.method) \(request.uri.path)" : error.status.reasonPhrase)
            throw APIError(error.status, code: code, message, headers: error.headers)
        } catch let error as any HTTPResponseError {
            throw APIError(error.status, code: "invalid_request", "\(error)")
        } catch let error as KnowledgeBankError {
            throw Self.map(error)
        } catch let error as ChatError {
            throw Self.map(error)
        } catch let error as AccountError {
            if error.isEmailTaken { throw APIError(.conflict, code: "email_taken", "an account with this e-mail address already exists", field: "email") }
            throw APIError.badRequest(error.message, field: error.field)
        } catch let error as StoreError {
            if error.isSameKind(as: .conflict("")) { throw APIError(.conflict, code: "conflict", error.message) }
            if error.isSameKind(as: .invalidArgument("")) { throw APIError(.badRequest, code: "invalid_request", error.message) }
            context.logger.error("store error: \(error.message)")
            throw APIError(.serviceUnavailable, code: "store_unavailable", "the database is unavailable; try again shortly")
        } catch let error as DecodingError {
            throw APIError.badRequest("the JSON body does not match: \(Self.describe(error))")
        } catch is CancellationError {
            // The client went away (or the server is stopping): nobody reads this answer; no error worth logging.
            context.logger.info("\(request.method) \(request.uri.path) cancelled: the client left or the server is stopping")
            throw APIError(HTTPResponse.Status(code: 499, reasonPhrase: "Client Closed Request"), code: "cancelled", "the request was cancelled")
        } catch {
            context.logger.error("unhandled error on \(request.method) \(request.uri.path): \(error)")
            throw APIError(.internalServerError, code: "internal", "the server failed; the error is logged with request id \(context.id)")
        }
    }

    static func map(_ error: KnowledgeBankError) -> APIError {
        if error.isSameKind(as: .invalidInput("")) { return APIError(.badRequest, code: "invalid_request", error.message, field: error.field) }
        if error.isSameKind(as: .tooLarge("")) { return APIError(.contentTooLarge, code: "document_too_large", error.message, field: error.field) }
        if error.isSameKind(as: .notFound("")) { return APIError.notFound(error.message) }
        if error.isSameKind(as: .modelMismatch("")) { return APIError(.conflict, code: "model_mismatch", error.message) }
        if error.isSameKind(as: .embeddingFailed("")) { return APIError(.serviceUnavailable, code: "embedder_unavailable", error.message) }
        return APIError(.internalServerError, code: "index_failed", error.message)
    }

    /// A chat turn's refusal or failure: 400 for the question, 404 for another user's conversation or answer, 502
    /// when the language model failed, 503 with `Retry-After` when the local engine's queue is full, 504 when it did
    /// not answer in time.
    static func map(_ error: ChatError) -> APIError {
        switch error.code {
        case .invalidQuestion: APIError.badRequest(error.message, field: error.field)
        case .conversationNotFound, .messageNotFound: APIError.notFound(error.message)
        case .generatorTimedOut: APIError(.gatewayTimeout, code: "llm_timeout", error.message)
        case .generatorBusy:
            APIError(.serviceUnavailable, code: "llm_busy", error.message, headers: [.retryAfter: String(error.retryAfter ?? 5)])
        default: APIError(.badGateway, code: "llm_failed", error.message)
        }
    }

    static func snakeCase(_ key: String) -> String {
        key.reduce(into: "") { result, c in
            if c.isUppercase { result += "_" + c.lowercased() } else { result.append(c) }
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? snakeCase($0.stringValue) }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field '\(path(context).isEmpty ? snakeCase(key.stringValue) : path(context) + "." + snakeCase(key.stringValue))'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "field '\(path(context))' has the wrong type"
        case .dataCorrupted(let context): return context.codingPath.isEmpty ? "not valid JSON" : "field '\(path(context))' is invalid"
        @unknown default: return "invalid body"
        }
    }
}
