import Foundation
import Hummingbird
import Logging
import Storage

/// Writes security events to the audit log: admin changes, failed logins, denials, rate-limit hits.
struct AuditTrail: Sendable {
    let store: any AuditStore
    let logger: Logger

    /// Appends an entry for a request; a failure is logged, never shown to the caller (the action itself already happened).
    func record(
        _ action: String, actor: String?, target: String?, context: AppRequestContext, detail: some Encodable & Sendable = [String: String]()
    ) async {
        await record(action, actor: actor, target: target, ip: context.clientAddress, detail: detail)
    }

    /// Appends an entry for work outside a request (a background job): `ip` is that of the request that started it, if known.
    func record(_ action: String, actor: String?, target: String?, ip: String?, detail: some Encodable & Sendable = [String: String]()) async {
        let json = JSONText.encode(detail, otherwise: "{}")
        do {
            try await store.appendAudit(AuditEntry(occurredAt: Date(), actorID: actor, action: action, target: target, ip: ip, detail: json))
        } catch {
            logger.error("cannot write the audit entry \(action) on \(target ?? "-"): \(error)")
        }
    }
}

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
