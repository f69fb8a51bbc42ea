import Foundation
import Hummingbird
import Logging
import Storage

/// Audits refused requests: 403 (a role or ownership check said no) and 429 (a rate limit).
struct AuditMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let trail: AuditTrail
    let analytics: AnalyticsRecorder

    struct Denial: Encodable {
        var method: String
        var path: String
        var code: String?
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError where error.status == .forbidden || error.status == .tooManyRequests {
            let action = error.status == .forbidden ? "security.denied" : "security.rate_limited"
            await trail.record(
                action, actor: context.identity?.user.id, target: nil, context: context,
                detail: Denial(method: request.method.rawValue, path: request.uri.path, code: error.code))
            if error.status == .tooManyRequests { await analytics.record("security.rate_limited", user: context.identity?.user.id) }
            throw error
        }
    }
}
