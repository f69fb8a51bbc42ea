import Foundation
import Hummingbird
import Retrieval
import Storage

/// `GET /api/admin/audit`: the audit log, newest first (admins only).
struct AuditController {
    let store: any AuditStore

    struct EntryView: Encodable {
        var id: Int64
        var occurredAt: Date
        var actorId: String?
        var action: String
        var target: String?
        var ip: String?
        var detail: JSONValue
    }

    struct Page: ResponseEncodable {
        var entries: [EntryView]
        /// Pass as `before` for the next (older) page; absent at the end.
        var next: Int64?
    }

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get(use: list)
        return routes
    }

    func list(request: Request, context: AppRequestContext) async throws -> Page {
        _ = try context.caller(in: [.admin])
        let parameters = request.uri.formParameters
        var query = AuditQuery(limit: try QueryParameter.integer(parameters, "limit", default: 100, range: 1...500))
        if let before = parameters.get("before"), !before.isEmpty {
            guard let id = Int64(before), id > 0 else { throw APIError.badRequest("before must be an entry id", field: "before") }
            query.before = id
        }
        for (name, keyPath) in [("actor", \AuditQuery.actorID), ("action", \AuditQuery.action), ("target", \AuditQuery.target)] {
            guard let value = parameters.get(name), !value.isEmpty else { continue }
            guard value.count <= 200 else { throw APIError.badRequest("\(name) is at most 200 characters", field: name) }
            query[keyPath: keyPath] = value
        }
        let entries = try await store.auditEntries(query)
        let views = entries.map { entry in
            EntryView(
                id: entry.id ?? 0, occurredAt: entry.occurredAt, actorId: entry.actorID, action: entry.action, target: entry.target, ip: entry.ip,
                detail: (try? JSONDecoder().decode(JSONValue.self, from: Data(entry.detail.utf8))) ?? .object([:]))
        }
        return Page(entries: views, next: entries.count == query.limit ? entries.last?.id : nil)
    }
}
