@testable import Accounts
import ChatAPI
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Retrieval
import Storage
import StoreTesting
import Testing

/// The API over a fresh store of each kind, driven through Hummingbird's in-process test client.
enum APIHarness {
    static let embedder: Result<BuiltinEmbedder, any Error> = Result { try BuiltinEmbedder(threads: 2) }

    struct Context {
        let client: any TestClientProtocol
        let mailDirectory: URL
        let store: any OmnifinStore
        let bank: KnowledgeBank
        let configuration: ServerConfiguration

        func request(
            _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: String? = nil, headers extra: HTTPFields = [:]
        ) async throws -> (status: HTTPResponse.Status, body: [String: Any], headers: HTTPFields) {
            var headers = extra
            if let token { headers[.authorization] = "Bearer \(token)" }
            if json != nil { headers[.contentType] = "application/json" }
            return try await client.execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }) { response in
                let object = (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:]
                return (response.status, object, response.headers)
            }
        }

        /// The delivered e-mails to `email`, oldest first, waiting up to five seconds for at least `count`.
        func mails(to email: String, atLeast count: Int = 1) async throws -> [String] {
            var found: [String] = []
            for _ in 0..<100 {
                // Only finished messages: an atomic write shows a temporary file first.
                let files = ((try? FileManager.default.contentsOfDirectory(atPath: mailDirectory.path)) ?? []).filter {
                    $0.hasSuffix(".eml") && !$0.hasPrefix(".")
                }.sorted()
                found = try files.map { try String(contentsOf: mailDirectory.appendingPathComponent($0), encoding: .utf8) }
                    .filter { $0.contains("To: <\(email)>") }
                if found.count >= count { return found }
                try await Task.sleep(for: .milliseconds(50))
            }
            return found
        }

        /// The confirmation token from the newest e-mail to `email`.
        func confirmationToken(for email: String, mailNumber: Int = 1) async throws -> String {
            for text in try await mails(to: email, atLeast: mailNumber).reversed() {
                guard let range = text.range(of: "verify?token=") else { continue }
                return String(text[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            }
            throw APIError(.notFound, code: "no_mail", "no confirmation e-mail to \(email)")
        }

        /// Registers, confirms and signs in; returns the session token.
        func signUp(_ email: String, name: String = "Test User", password: String = "a long enough passphrase") async throws -> String {
            let registered = try await request(.post, "/api/auth/register", json: #"{"email": "\#(email)", "password": "\#(password)", "display_name": "\#(name)"}"#)
            #expect(registered.status == .created, "\(registered.body)")
            let token = try await confirmationToken(for: email)
            let verified = try await request(.post, "/api/auth/verify", json: #"{"token": "\#(token)", "password": "\#(password)"}"#)
            #expect(verified.status == .ok, "\(verified.body)")
            return try await signIn(email, password: password)
        }

        /// An administrator, as the operator creates one (`omnifin admin create-user`), signed in; returns the token.
        func signUpAdmin(_ email: String, name: String = "Test Admin", password: String = "a long enough passphrase") async throws -> String {
            _ = try await Accounts.createUser(in: store, email: email, password: password, displayName: name, role: "admin", bcryptCost: 4)
            return try await signIn(email, password: password)
        }

        func signIn(_ email: String, password: String = "a long enough passphrase") async throws -> String {
            let login = try await request(.post, "/api/auth/login", json: #"{"email": "\#(email)", "password": "\#(password)"}"#)
            #expect(login.status == .ok, "\(login.body)")
            return try #require(login.body["token"] as? String)
        }
    }

    /// Runs `body` against a server over a fresh store of `kind`, or over the store at `databaseURL` (a second
    /// replica of another server's database). `live` serves on a real socket with the background services running
    /// (following the store, mail, snapshots); otherwise requests go straight to the router.
    static func withAPI(
        _ kind: StoreKind, databaseURL: String? = nil, live: Bool = false, configure: @Sendable (inout ServerConfiguration) -> Void = { _ in },
        _ body: @Sendable (Context) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-api-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        func withURL(_ run: (String) async throws -> Void) async throws {
            if let databaseURL { try await run(databaseURL) } else { try await TestStores.withDatabaseURL(kind, run) }
        }
        try await withURL { url in
            let store = try await StoreFactory.open(url: url)
            let builtin = try embedder.get()
            var logger = Logger(label: "omnifin.test")
            logger.logLevel = .error
            var configuration = ServerConfiguration(
                snapshotPath: directory.appendingPathComponent("index.hnsw").path, mailDirectory: directory.appendingPathComponent("mail").path,
                bcryptCost: 4, dataKeyFile: directory.appendingPathComponent("data.key").path, mailRetryBase: 0.2, mailPollInterval: .milliseconds(100))
            configuration.databaseURL = url
            configuration.importDirectory = directory.appendingPathComponent("imports").path
            // Most tests register their users; the sign-up policy tests set their own.
            configuration.signup = .open
            configure(&configuration)
            let settings = configuration
            let (bank, _) = try await KnowledgeBank.open(
                store: store, embedder: builtin, chunker: KnowledgeBank.defaultChunker(for: builtin),
                configuration: .init(snapshotPath: configuration.snapshotPath, maximumDocumentBytes: configuration.maximumDocumentBytes), logger: logger)
            let app = try await buildApplication(store: store, bank: bank, configuration: configuration, logger: logger)
            do {
                try await app.test(live ? .live : .router) { client in
                    try await body(
                        Context(
                            client: client, mailDirectory: directory.appendingPathComponent("mail"), store: store, bank: bank, configuration: settings))
                }
            } catch {
                await store.close()
                throw error
            }
            await store.close()
        }
    }
}

@Suite("REST API", .serialized)
struct APITests {
    @Test("register → confirm → login → profile → knowledge → logout, on both stores", arguments: StoreKind.allCases)
    func journey(kind: StoreKind) async throws {
        try await APIHarness.withAPI(kind) { api in
            #expect(try await api.request(.get, "/healthz").status == .ok)
            let ready = try await api.request(.get, "/readyz")
            #expect(ready.status == .ok && ready.body["status"] as? String == "ready")

            // Registration validates; an account must confirm its address (with its password) before it can sign in.
            let weak = try await api.request(.post, "/api/auth/register", json: #"{"email": "ada@example.com", "password": "1234567890", "display_name": "Ada"}"#)
            #expect(weak.status == .badRequest && (weak.body["error"] as? [String: Any])?["field"] as? String == "password")
            let badEmail = try await api.request(.post, "/api/auth/register", json: #"{"email": "ada", "password": "a long passphrase", "display_name": "Ada"}"#)
            #expect((badEmail.body["error"] as? [String: Any])?["field"] as? String == "email")
            let missing = try await api.request(.post, "/api/auth/register", json: #"{"email": "ada@example.com", "password": "a long passphrase"}"#)
            #expect(missing.status == .badRequest && (missing.body["error"] as? [String: Any])?["field"] as? String == "display_name")

            let registered = try await api.request(
                .post, "/api/auth/register", json: #"{"email": "Ada@Example.com", "password": "a long passphrase", "display_name": "Ada"}"#)
            #expect(registered.status == .created && registered.body["status"] as? String == "pending" && registered.body["user"] == nil)
            let early = try await api.request(.post, "/api/auth/login", json: #"{"email": "ada@example.com", "password": "a long passphrase"}"#)
            #expect(early.status == .forbidden && (early.body["error"] as? [String: Any])?["code"] as? String == "email_not_verified")
            // Registering again before confirming replaces the pending registration, and answers the same.
            let again = try await api.request(
                .post, "/api/auth/register", json: #"{"email": "ada@example.com", "password": "another passphrase", "display_name": "Ada"}"#)
            #expect(again.status == .created && NSDictionary(dictionary: again.body) == NSDictionary(dictionary: registered.body))

            let token = try await api.confirmationToken(for: "ada@example.com", mailNumber: 2)
            let confirm = #"{"token": "\#(token)", "password": "another passphrase"}"#
            #expect(try await api.request(.post, "/api/auth/verify", json: confirm).body["status"] as? String == "verified")
            let reused = try await api.request(.post, "/api/auth/verify", json: confirm)
            #expect(reused.status == .ok && reused.body["status"] as? String == "already_verified")
            let admin = try await api.signUpAdmin("root@example.com")
            let ada = try #require((try await api.store.user(email: "ada@example.com"))?.id)
            #expect(try await api.request(.put, "/api/admin/users/\(ada)", token: admin, json: #"{"role": "editor"}"#).status == .ok)

            // The same answer for a wrong password and an unknown account.
            let wrong = try await api.request(.post, "/api/auth/login", json: #"{"email": "ada@example.com", "password": "a long passphrase"}"#)
            let unknown = try await api.request(.post, "/api/auth/login", json: #"{"email": "eve@example.com", "password": "not the passphrase"}"#)
            #expect(wrong.status == .unauthorized && unknown.status == .unauthorized)
            #expect(NSDictionary(dictionary: wrong.body) == NSDictionary(dictionary: unknown.body))

            let login = try await api.request(.post, "/api/auth/login", json: #"{"email": "ada@example.com", "password": "another passphrase"}"#)
            let session = try #require(login.body["token"] as? String)
            #expect(session.count >= 43 && login.body["expires_at"] != nil)
            let profile = try await api.request(.get, "/api/auth/profile", token: session)
            #expect(profile.status == .ok && profile.body["email"] as? String == "ada@example.com" && profile.body["verified"] as? Bool == true)
            #expect(profile.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")

            // Knowledge: write, search, read, update, delete.
            let created = try await api.request(
                .post, "/api/knowledge", token: session,
                json: #"{"title": "Invoice approval", "body": "Invoices above 10,000 EUR need a second approval by the controller.", "tags": ["ap", "policy"]}"#)
            #expect(created.status == .created, "\(created.body)")
            let document = try #require(created.body["document"] as? [String: Any])
            let id = try #require(document["id"] as? String)
            #expect(document["tags"] as? [String] == ["ap", "policy"] && created.body["change"] as? String == "created")

            let search = try await api.request(.get, "/api/knowledge?q=who%20approves%20large%20invoices&k=3", token: session)
            let hits = try #require(search.body["hits"] as? [[String: Any]])
            #expect(hits.first?["document_id"] as? String == id && (hits.first?["passage"] as? String)?.contains("second approval") == true)
            #expect(try await api.request(.get, "/api/knowledge/\(id)", token: session).body["body"] as? String != nil)
            let listed = try await api.request(.get, "/api/knowledge?limit=10", token: session)
            #expect((listed.body["documents"] as? [[String: Any]])?.count == 1)

            let updated = try await api.request(
                .put, "/api/knowledge/\(id)", token: session, json: #"{"title": "Invoice approval", "body": "Invoices above 5,000 EUR need two approvals."}"#)
            #expect(updated.status == .ok && updated.body["change"] as? String == "updated")
            #expect(try await api.request(.put, "/api/knowledge/nope", token: session, json: #"{"title": "t", "body": "b"}"#).status == .notFound)
            let bad = try await api.request(.post, "/api/knowledge", token: session, json: #"{"title": "t", "body": "b", "access": ["team:x"]}"#)
            #expect(bad.status == .badRequest && (bad.body["error"] as? [String: Any])?["field"] as? String == "access")
            #expect(try await api.request(.delete, "/api/knowledge/\(id)", token: session).status == .noContent)
            #expect(try await api.request(.get, "/api/knowledge/\(id)", token: session).status == .notFound)

            #expect(try await api.request(.post, "/api/auth/logout", token: session).status == .noContent)
            #expect(try await api.request(.get, "/api/auth/profile", token: session).status == .unauthorized)
        }
    }

    @Test("roles are enforced by the server, and access lists hide entries", arguments: [StoreKind.sqlite])
    func roles(kind: StoreKind) async throws {
        try await APIHarness.withAPI(kind) { api in
            let admin = try await api.signUpAdmin("admin@example.com")
            let user = try await api.signUp("user@example.com")
            #expect(try await api.request(.get, "/api/auth/profile", token: user).body["role"] as? String == "user")

            let denied = try await api.request(.post, "/api/knowledge", token: user, json: #"{"title": "t", "body": "b"}"#)
            #expect(denied.status == .forbidden && (denied.body["error"] as? [String: Any])?["code"] as? String == "forbidden")
            let secret = try await api.request(
                .post, "/api/knowledge", token: admin, json: #"{"title": "Board minutes", "body": "The acquisition was approved.", "access": ["role:editor"]}"#)
            let open = try await api.request(.post, "/api/knowledge", token: admin, json: #"{"title": "Acquisitions FAQ", "body": "Acquisitions need board approval."}"#)
            let secretID = try #require((secret.body["document"] as? [String: Any])?["id"] as? String)
            #expect(open.status == .created)

            let hits = try #require(try await api.request(.get, "/api/knowledge?q=acquisition%20approved", token: user).body["hits"] as? [[String: Any]])
            #expect(!hits.isEmpty && hits.allSatisfy { $0["document_id"] as? String != secretID })
            #expect(try await api.request(.get, "/api/knowledge/\(secretID)", token: user).status == .notFound)
            #expect(try await api.request(.delete, "/api/knowledge/\(secretID)", token: user).status == .forbidden)
            let listed = try await api.request(.get, "/api/knowledge", token: user).body["documents"] as? [[String: Any]]
            #expect(listed?.count == 1)
            #expect((try await api.request(.get, "/api/knowledge", token: admin).body["documents"] as? [[String: Any]])?.count == 2)
        }
    }

    @Test("profile: a new name, and a new password that needs the current one and signs out other sessions")
    func profileUpdate() async throws {
        try await APIHarness.withAPI(.sqlite) { api in
            let first = try await api.signUp("ada@example.com", password: "a long passphrase")
            let login = try await api.request(.post, "/api/auth/login", json: #"{"email": "ada@example.com", "password": "a long passphrase"}"#)
            let second = try #require(login.body["token"] as? String)

            let renamed = try await api.request(.put, "/api/auth/profile", token: first, json: #"{"display_name": "Ada Lovelace"}"#)
            #expect(renamed.status == .ok && renamed.body["display_name"] as? String == "Ada Lovelace")
            let noCurrent = try await api.request(.put, "/api/auth/profile", token: first, json: #"{"new_password": "another long passphrase"}"#)
            #expect(noCurrent.status == .badRequest && (noCurrent.body["error"] as? [String: Any])?["field"] as? String == "current_password")
            let wrong = try await api.request(
                .put, "/api/auth/profile", token: first, json: #"{"current_password": "not it at all", "new_password": "another long passphrase"}"#)
            #expect(wrong.status == .forbidden)
            let weak = try await api.request(
                .put, "/api/auth/profile", token: first, json: #"{"current_password": "a long passphrase", "new_password": "short"}"#)
            #expect(weak.status == .badRequest && (weak.body["error"] as? [String: Any])?["field"] as? String == "password")
            let changed = try await api.request(
                .put, "/api/auth/profile", token: first, json: #"{"current_password": "a long passphrase", "new_password": "another long passphrase"}"#)
            #expect(changed.status == .ok)
            #expect(try await api.request(.get, "/api/auth/profile", token: first).status == .ok)
            #expect(try await api.request(.get, "/api/auth/profile", token: second).status == .unauthorized)
            #expect(try await api.request(.post, "/api/auth/login", json: #"{"email": "ada@example.com", "password": "a long passphrase"}"#).status
                == .unauthorized)
            #expect(try await api.request(.post, "/api/auth/login", json: #"{"email": "ada@example.com", "password": "another long passphrase"}"#)
                .status == .ok)
        }
    }

    @Test("rate limits: 429 with Retry-After per user, per address on public routes, and failed logins per account and address")
    func rateLimits() async throws {
        try await APIHarness.withAPI(.sqlite, configure: { $0.rateLimitPerMinute = 3; $0.loginAttemptsPerMinute = 3 }) { api in
            // Register, verify and login are three public requests from this address: the fourth waits.
            let token = try await api.signUp("ada@example.com", password: "a long passphrase")
            let publicLimited = try await api.request(.post, "/api/auth/register", json: #"{"email": "x@example.com", "password": "a long passphrase", "display_name": "X"}"#)
            #expect(publicLimited.status == .tooManyRequests)
            for _ in 0..<3 { #expect(try await api.request(.get, "/api/auth/profile", token: token).status == .ok) }
            let limited = try await api.request(.get, "/api/auth/profile", token: token)
            #expect(limited.status == .tooManyRequests && (limited.body["error"] as? [String: Any])?["code"] as? String == "rate_limited")
            #expect(Int(limited.headers[HTTPField.Name("Retry-After")!] ?? "") ?? 0 >= 1)
        }
        try await APIHarness.withAPI(.sqlite, configure: { $0.rateLimitPerMinute = 100; $0.loginAttemptsPerMinute = 3 }) { api in
            _ = try await api.signUp("ada@example.com", password: "a long passphrase")

            for _ in 0..<3 {
                let failed = try await api.request(.post, "/api/auth/login", json: #"{"email": "ada@example.com", "password": "wrong password!"}"#)
                #expect(failed.status == .unauthorized)
            }
            // Now even the right password waits, and so does another account from the same address.
            let blocked = try await api.request(.post, "/api/auth/login", json: #"{"email": "ada@example.com", "password": "a long passphrase"}"#)
            #expect(blocked.status == .tooManyRequests && blocked.headers[HTTPField.Name("Retry-After")!] != nil)
            let other = try await api.request(.post, "/api/auth/login", json: #"{"email": "bob@example.com", "password": "whatever it is"}"#)
            #expect(other.status == .tooManyRequests)
        }
    }

    @Test("/metrics counts requests by route template and status and reports the bank's sizes")
    func metrics() async throws {
        try await APIHarness.withAPI(.sqlite, configure: { $0.metricsToken = "a-scraper-token-of-some-length" }) { api in
            let token = try await api.signUpAdmin("ada@example.com")
            _ = try await api.request(.post, "/api/knowledge", token: token, json: #"{"title": "Payment runs", "body": "Tuesdays and Fridays."}"#)
            _ = try await api.request(.get, "/api/knowledge/some-id", token: token)
            _ = try await api.request(.get, "/api/knowledge")
            let text = try await api.client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer a-scraper-token-of-some-length"]) { response in
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                return String(decoding: response.body.readableBytesView, as: UTF8.self)
            }
            #expect(text.contains(#"omnifin_http_requests_total{route="/api/knowledge/{id}",method="GET",status="404"} 1"#), "\(text)")
            #expect(text.contains(#"omnifin_http_requests_total{route="/api/knowledge",method="GET",status="401"} 1"#))
            #expect(text.contains(#"omnifin_http_requests_total{route="/api/knowledge",method="POST",status="201"} 1"#))
            #expect(text.contains("omnifin_http_request_duration_seconds_bucket"))
            #expect(text.contains("omnifin_knowledge_documents 1") && text.contains("omnifin_store_generation 1"))
        }
    }

    @Test("no token, a bad token and malformed input get precise JSON errors, never a 500")
    func errors() async throws {
        try await APIHarness.withAPI(.sqlite) { api in
            for (method, uri) in [(HTTPRequest.Method.get, "/api/knowledge"), (.get, "/api/auth/profile"), (.post, "/api/auth/logout")] {
                let response = try await api.request(method, uri)
                #expect(response.status == .unauthorized && (response.body["error"] as? [String: Any])?["code"] as? String == "unauthorized")
            }
            #expect(try await api.request(.get, "/api/knowledge", token: "forged").status == .unauthorized)
            let token = try await api.signUpAdmin("ada@example.com")
            let cases: [(String, String, HTTPResponse.Status)] = [
                ("/api/knowledge", "{", .badRequest),
                ("/api/knowledge", "[]", .badRequest),
                ("/api/knowledge", #"{"title": 5, "body": "b"}"#, .badRequest),
                ("/api/knowledge", #"{"title": " ", "body": ""}"#, .badRequest),
            ]
            for (uri, json, status) in cases {
                let response = try await api.request(.post, uri, token: token, json: json)
                #expect(response.status == status, "\(json): \(response.body)")
                #expect((response.body["error"] as? [String: Any])?["message"] as? String != nil)
            }
            #expect(try await api.request(.get, "/api/knowledge?q=x&k=0", token: token).status == .badRequest)
            #expect(try await api.request(.get, "/api/knowledge?q=x&mode=sparse", token: token).status == .badRequest)
            #expect(try await api.request(.get, "/api/nothing-here", token: token).status == .notFound)
            #expect(try await api.request(.post, "/api/auth/verify", json: #"{"token": "", "password": "x"}"#).status == .badRequest)
        }
    }
}
