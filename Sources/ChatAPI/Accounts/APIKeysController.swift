import Accounts
import Foundation
import Hummingbird
import Storage

/// Personal API keys, for the tools a person connects to Omnifin (an OpenAI client, an MCP client) instead of pasting a
/// session token into them: `POST /api/auth/api-keys` (named, scoped `read` or `chat`, shown once, stored hashed),
/// `GET` lists the caller's keys, `DELETE /api/auth/api-keys/{id}` revokes one. A key opens `/v1` and `/mcp` only, as
/// its owner with their role and groups, never the account itself: keys are managed from a signed-in session.
struct APIKeysController {
    let accounts: any AccountStore
    let audit: AuditTrail
    /// How many unrevoked, unexpired keys one person may hold.
    static let maximumKeys = 20

    struct CreateRequest: JSONRequestBody {
        var name: String
        var scope: String?
        var expiresInDays: Int?
        enum CodingKeys: String, CodingKey, CaseIterable { case name, scope, expiresInDays }
    }

    struct KeyView: ResponseEncodable {
        var id: String
        var name: String
        var scope: String
        var createdAt: Date
        var expiresAt: Date
        var revokedAt: Date?
        /// `active`, `expired` or `revoked`.
        var status: String
        /// The secret itself: only in the answer to its creation.
        var key: String?

        init(_ record: AuthTokenRecord, key: String? = nil) {
            id = record.keyID ?? ""
            name = record.name ?? ""
            scope = (record.scope ?? .read).rawValue
            createdAt = record.createdAt
            expiresAt = record.expiresAt
            revokedAt = record.revokedAt
            status = record.revokedAt != nil ? "revoked" : record.expiresAt <= Date() ? "expired" : "active"
            self.key = key
        }
    }

    struct KeyList: ResponseEncodable {
        var keys: [KeyView]
    }

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post(use: create)
        routes.get(use: list)
        routes.delete(":id", use: revoke)
        return routes
    }

    func create(request: Request, context: AppRequestContext) async throws -> EditedResponse<KeyView> {
        let caller = try context.caller()
        let body = try await request.decodeJSON(as: CreateRequest.self, context: context, limit: 16 << 10)
        let name = body.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(name.count), !name.contains(where: \.isNewline) else {
            throw APIError.badRequest("name must be 1 to 100 characters on one line, e.g. \"Open WebUI on my laptop\"", field: "name")
        }
        guard let scope = AuthTokenRecord.Scope(rawValue: body.scope ?? "chat") else {
            throw APIError.badRequest("scope must be read (search and read documents) or chat (also ask questions)", field: "scope")
        }
        let days = body.expiresInDays ?? 365
        guard (1...3650).contains(days) else { throw APIError.badRequest("expires_in_days must be 1 to 3650", field: "expires_in_days") }
        let active = try await accounts.apiKeys(userID: caller.user.id).filter { $0.revokedAt == nil && $0.expiresAt > Date() }
        guard active.count < Self.maximumKeys else {
            throw APIError(.conflict, code: "too_many_keys", "you hold \(active.count) active API keys, the most there may be; revoke one first")
        }
        // The secret names itself as an Omnifin key (secret scanners and people can tell it from a session token).
        let (secret, _) = Secrets.newToken()
        let key = "omk_" + secret
        let now = Date()
        let record = AuthTokenRecord(
            tokenHash: Secrets.hash(key), userID: caller.user.id, purpose: .apiKey, createdAt: now, expiresAt: now.addingTimeInterval(Double(days) * 86_400),
            keyID: "key_" + String(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)), name: name, scope: scope)
        try await accounts.insertToken(record)
        await audit.record("auth.api_key_created", actor: caller.user.id, target: "api_key:\(record.keyID ?? "")", context: context, detail: ["name": name, "scope": scope.rawValue])
        return EditedResponse(status: .created, response: KeyView(record, key: key))
    }

    func list(request: Request, context: AppRequestContext) async throws -> KeyList {
        let caller = try context.caller()
        return KeyList(keys: try await accounts.apiKeys(userID: caller.user.id).map { KeyView($0) })
    }

    func revoke(request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.caller()
        let id = try context.parameters.require("id")
        guard id.count <= 100, try await accounts.revokeAPIKey(userID: caller.user.id, keyID: id, at: Date()) != nil else {
            throw APIError.notFound("you have no active API key \(id)")
        }
        await audit.record("auth.api_key_revoked", actor: caller.user.id, target: "api_key:\(id)", context: context)
        return Response(status: .noContent)
    }
}
