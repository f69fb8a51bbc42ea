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
        let json = StoredJSON.encode(detail, otherwise: "{}")
        do {
            try await store.appendAudit(AuditEntry(occurredAt: Date(), actorID: actor, action: action, target: target, ip: ip, detail: json))
        } catch {
            logger.error("cannot write the audit entry \(action) on \(target ?? "-"): \(error)")
        }
    }
}
