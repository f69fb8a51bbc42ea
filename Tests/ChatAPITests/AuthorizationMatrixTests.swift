@testable import Accounts
@testable import ChatAPI
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Storage
import StoreTesting
import Testing

/// Every route of the router against every kind of caller. The table below says who may call each route; a route
/// the router has and the table lacks (or the other way round) fails the test, so a new route cannot ship without
/// a decision about who may call it.
@Suite("Authorization matrix", .serialized)
struct AuthorizationMatrixTests {
    enum Access: Int, Comparable {
        case everyone = 0, user, editor, admin
        static func < (a: Access, b: Access) -> Bool { a.rawValue < b.rawValue }
    }

    static let table: [String: Access] = [
        // Public: health, the API document, the web pages, registration, sign-in, confirmation, reset and setup (each
        // with its own checks: a token from an e-mail or the log, rate limits). /metrics has its own token (below).
        "GET /healthz": .everyone, "GET /readyz": .everyone, "GET /api/openapi.json": .everyone,
        "GET /": .everyone, "GET /verify": .everyone, "GET /reset-password": .everyone, "GET /setup": .everyone, "GET /admin": .everyone,
        "GET /manifest.webmanifest": .everyone, "GET /sw.js": .everyone, "GET /assets/**": .everyone,
        "GET /api/auth/signup": .everyone, "POST /api/auth/register": .everyone, "POST /api/auth/verify": .everyone, "POST /api/auth/login": .everyone,
        "POST /api/auth/resend-verification": .everyone, "POST /api/auth/password-reset": .everyone, "POST /api/auth/password-reset/confirm": .everyone,
        "POST /api/auth/setup": .everyone,
        // Any signed-in user.
        "POST /api/auth/logout": .user, "GET /api/auth/profile": .user, "PUT /api/auth/profile": .user, "GET /api/auth/session": .user,
        "GET /api/knowledge": .user, "GET /api/knowledge/{id}": .user, "POST /api/analytics/events": .user,
        "POST /api/chat/message": .user, "GET /api/chat/history": .user, "POST /api/chat/feedback": .user, "GET /api/chat/status": .user,
        "POST /api/chat/voice": .user,
        // Personal API keys are made, listed and revoked by their owner; the clients' protocols answer any user.
        "POST /api/auth/api-keys": .user, "GET /api/auth/api-keys": .user, "DELETE /api/auth/api-keys/{id}": .user,
        "GET /v1/models": .user, "POST /v1/chat/completions": .user, "POST /mcp": .user, "GET /mcp": .user, "DELETE /mcp": .user,
        // Editors and admins: knowledge writes and imports.
        "POST /api/knowledge": .editor, "PUT /api/knowledge/{id}": .editor, "DELETE /api/knowledge/{id}": .editor,
        "POST /api/knowledge/import": .editor, "GET /api/knowledge/import/{job}": .editor, "DELETE /api/knowledge/import/{job}": .editor,
        // Admins only.
        "GET /api/admin/users": .admin, "POST /api/admin/users": .admin, "GET /api/admin/users/{id}": .admin, "PUT /api/admin/users/{id}": .admin,
        "DELETE /api/admin/users/{id}": .admin, "GET /api/admin/prompts": .admin, "POST /api/admin/prompts": .admin,
        "GET /api/admin/prompts/{id}": .admin, "PUT /api/admin/prompts/{id}": .admin, "GET /api/admin/analytics": .admin,
        "GET /api/admin/analytics/stream": .admin, "GET /api/admin/audit": .admin,
    ]

    /// Routes with a guard of their own, tested where it is defined: `/metrics` takes `OMNIFIN_METRICS_TOKEN` or a
    /// client on this machine, not a session (HardeningTests).
    static let ownGuard: Set<String> = ["GET /metrics"]

    /// A concrete request for a route template: parameters filled with an id nobody has, a JSON body for writes,
    /// and a bounded stream.
    static func request(for route: String) -> (HTTPRequest.Method, String, ByteBuffer?) {
        let parts = route.split(separator: " ", maxSplits: 1)
        let method = HTTPRequest.Method(rawValue: String(parts[0]))!
        var path = String(parts[1]).replacing(/\{[a-z_]+\}/, with: "0f0e0d0c-0000-4000-8000-000000000000").replacingOccurrences(of: "**", with: "api.js")
        if path == "/api/admin/analytics/stream" { path += "?every=1&count=1" }
        return (method, path, [.post, .put, .patch].contains(method) ? ByteBuffer(string: "{}") : nil)
    }

    @Test("every route × no token, a garbage, expired, revoked, verification-only or disabled user's token, and each role")
    func matrix() async throws {
        try await APIHarness.withAPI(.sqlite) { api in
            // The router's own list of routes, compared with the table both ways.
            let dependencies = try await ServerDependencies.make(store: api.store, bank: api.bank, configuration: api.configuration, logger: Logger(label: "matrix"))
            let routes = Set(buildRouter(dependencies).routes.map { "\($0.method) \($0.path)" })
            let decided = Set(Self.table.keys).union(Self.ownGuard)
            #expect(routes.subtracting(decided).isEmpty, "routes with no entry in the authorization table: \(routes.subtracting(decided).sorted())")
            #expect(decided.subtracting(routes).isEmpty, "table entries the router lacks: \(decided.subtracting(routes).sorted())")

            // The callers: one per role, plus tokens that must never work.
            let admin = try await api.signUpAdmin("root@example.com")
            let password = "a long enough passphrase"
            var tokens: [Access: String] = [.admin: admin]
            var ids: [Access: String] = [:]
            for (role, email) in [(Access.editor, "editor@example.com"), (.user, "user@example.com"), (.everyone, "disabled@example.com")] {
                let created = try await api.request(
                    .post, "/api/admin/users", token: admin,
                    json: #"{"email": "\#(email)", "password": "\#(password)", "display_name": "M", "role": "\#(role == .editor ? "editor" : "user")"}"#)
                #expect(created.status == .created, "\(created.body)")
                ids[role] = created.body["id"] as? String
                tokens[role] = try #require(try await api.request(.post, "/api/auth/login", json: #"{"email": "\#(email)", "password": "\#(password)"}"#).body["token"] as? String)
            }
            let disabledToken = try #require(tokens[.everyone])
            tokens[.everyone] = nil
            #expect(try await api.request(.put, "/api/admin/users/\(try #require(ids[.everyone]))", token: admin, json: #"{"disabled": true}"#).status == .ok)
            let revoked = try #require(try await api.request(.post, "/api/auth/login", json: #"{"email": "user@example.com", "password": "\#(password)"}"#).body["token"] as? String)
            #expect(try await api.request(.post, "/api/auth/logout", token: revoked).status == .noContent)
            let (expired, expiredHash) = Secrets.newToken()
            try await api.store.insertToken(
                AuthTokenRecord(tokenHash: expiredHash, userID: try #require(ids[.user]), purpose: .session, createdAt: Date(timeIntervalSinceNow: -7200),
                    expiresAt: Date(timeIntervalSinceNow: -3600)))
            let (verification, verificationHash) = Secrets.newToken()
            try await api.store.insertToken(
                AuthTokenRecord(tokenHash: verificationHash, userID: try #require(ids[.user]), purpose: .verification, createdAt: Date(),
                    expiresAt: Date(timeIntervalSinceNow: 3600)))
            let refused = [
                ("no token", nil), ("a garbage token", "not-a-token"), ("an expired token", expired), ("a revoked token", revoked),
                ("a confirmation-link token", verification), ("a disabled user's token", disabledToken),
            ]

            func call(_ route: String, token: String?) async throws -> HTTPResponse.Status {
                let (method, path, body) = Self.request(for: route)
                var headers: HTTPFields = [:]
                if let token { headers[.authorization] = "Bearer \(token)" }
                if body != nil { headers[.contentType] = "application/json" }
                return try await api.client.execute(uri: path, method: method, headers: headers, body: body) { $0.status }
            }

            var checked = 0
            for route in Self.table.keys.sorted() {
                let access = Self.table[route]!
                if access == .everyone {
                    let status = try await call(route, token: nil)
                    #expect(status != .unauthorized && status != .forbidden, "\(route) without a token: \(status)")
                    checked += 1
                    continue
                }
                for (what, token) in refused {
                    let status = try await call(route, token: token)
                    #expect(status == .unauthorized, "\(route) with \(what): \(status)")
                    checked += 1
                }
                for role in [Access.user, .editor, .admin] {
                    // Signing out ends the session it is called with: use a fresh one.
                    var token = tokens[role]!
                    if route == "POST /api/auth/logout" {
                        let email = role == .admin ? "root@example.com" : role == .editor ? "editor@example.com" : "user@example.com"
                        token = try #require(try await api.request(.post, "/api/auth/login", json: #"{"email": "\#(email)", "password": "\#(password)"}"#).body["token"] as? String)
                    }
                    let status = try await call(route, token: token)
                    if role < access {
                        #expect(status == .forbidden, "\(route) as \(role): \(status)")
                    } else {
                        #expect(status != .unauthorized && status != .forbidden && status.code < 500, "\(route) as \(role): \(status)")
                    }
                    checked += 1
                }
            }
            #expect(checked > 200)

            // An admin's personal API key opens the clients' protocols and nothing else, not even the routes every
            // user may call (its owner's account, keys and sessions among them).
            let key = try #require(
                try await api.request(.post, "/api/auth/api-keys", token: admin, json: #"{"name": "matrix", "scope": "chat"}"#).body["key"] as? String)
            for route in Self.table.keys.sorted() where Self.table[route] != .everyone {
                let status = try await call(route, token: key)
                let path = String(route.split(separator: " ")[1])
                if path.hasPrefix("/v1/") || path == "/mcp" {
                    #expect(status != .unauthorized && status != .forbidden && status.code < 500, "\(route) with an API key: \(status)")
                } else {
                    #expect(status == .unauthorized, "\(route) with an API key: \(status)")
                }
            }

            // Another user's things are invisible: a conversation and its messages answer 404, not 403, so their
            // existence does not leak.
            let asked = try await api.request(.post, "/api/chat/message", token: tokens[.editor], json: #"{"message": "What is the approval limit for invoices?"}"#)
            let conversation = try #require(asked.body["conversation_id"] as? String)
            let message = try #require(asked.body["message_id"] as? String)
            #expect(try await api.request(.get, "/api/chat/history?conversation_id=\(conversation)", token: tokens[.user]).status == .notFound)
            #expect(try await api.request(.post, "/api/chat/message", token: tokens[.user], json: #"{"message": "and then?", "conversation_id": "\#(conversation)"}"#).status == .notFound)
            #expect(try await api.request(.post, "/api/chat/feedback", token: tokens[.user], json: #"{"message_id": "\#(message)", "value": 1}"#).status == .notFound)
            let mine = try await api.request(.get, "/api/chat/history", token: tokens[.user])
            #expect((mine.body["conversations"] as? [Any])?.isEmpty == true, "\(mine.body)")
            // A knowledge entry limited to one user.
            let secret = try await api.request(
                .post, "/api/knowledge", token: admin, json: #"{"title": "Board pay", "body": "Board remuneration figures.", "access": ["user:\#(try #require(ids[.editor]))"]}"#)
            let secretID = try #require((secret.body["document"] as? [String: Any])?["id"] as? String)
            #expect(try await api.request(.get, "/api/knowledge/\(secretID)", token: tokens[.editor]).status == .ok)
            #expect(try await api.request(.get, "/api/knowledge/\(secretID)", token: tokens[.user]).status == .notFound)
        }
    }
}
