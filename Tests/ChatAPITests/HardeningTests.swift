@testable import Accounts
@testable import ChatAPI
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Retrieval
import Settings
import Storage
import StoreTesting
import Testing
import Voice

/// The smaller findings of the hostile test, each on a live server: who may sign up, client addresses behind a
/// proxy, form-encoded queries, inclusive date ranges, what the public health routes reveal, voice switched off.
@Suite("Hardening", .serialized)
struct HardeningTests {
    static func register(_ api: APIHarness.Context, _ email: String) async throws -> (status: HTTPResponse.Status, body: [String: Any], headers: HTTPFields) {
        try await api.request(.post, "/api/auth/register", json: #"{"email": "\#(email)", "password": "a long enough passphrase", "display_name": "N"}"#)
    }

    static func code(_ body: [String: Any]) -> String? { (body["error"] as? [String: Any])?["code"] as? String }

    @Test("OMNIFIN_SIGNUP: open, domains, invite and closed; registration never makes an administrator")
    func signupPolicies() async throws {
        try await APIHarness.withAPI(.sqlite, live: true, configure: { $0.signup = .domains(["example.com"]) }) { api in
            let policy = try await api.request(.get, "/api/auth/signup")
            #expect(policy.body["mode"] as? String == "domains" && policy.body["domains"] as? [String] == ["example.com"])
            #expect(policy.body["setup_pending"] as? Bool == true)
            let outside = try await Self.register(api, "eve@elsewhere.org")
            #expect(outside.status == .forbidden && Self.code(outside.body) == "signup_domain")
            let sub = try await Self.register(api, "sam@eu.example.com")
            #expect(sub.status == .created)
            // The very first account is a plain user: registration never makes an administrator.
            let first = try await api.signUp("first@example.com")
            #expect(try await api.request(.get, "/api/auth/profile", token: first).body["role"] as? String == "user")
            #expect(try await api.request(.get, "/api/admin/users", token: first).status == .forbidden)
        }
        for (policy, adminMayCreate) in [(SignupPolicy.invite, true), (.closed, false)] {
            try await APIHarness.withAPI(.sqlite, live: true, configure: { $0.signup = policy }) { api in
                let refused = try await Self.register(api, "eve@example.com")
                #expect(refused.status == .forbidden && Self.code(refused.body) == "signup_closed", "\(policy): \(refused.body)")
                #expect(try await api.store.user(email: "eve@example.com") == nil)
                let admin = try await api.signUpAdmin("root@example.com")
                let created = try await api.request(
                    .post, "/api/admin/users", token: admin, json: #"{"email": "new@example.com", "password": "a long enough passphrase", "display_name": "N"}"#)
                #expect((created.status == .created) == adminMayCreate, "\(policy): \(created.body)")
                if !adminMayCreate { #expect(Self.code(created.body) == "accounts_closed") }
            }
        }
        #expect(throws: ServerConfiguration.Invalid.self) { try ServerConfiguration.fromEnvironment(["OMNIFIN_SIGNUP": "maybe"]) }
        #expect(throws: ServerConfiguration.Invalid.self) { try ServerConfiguration.fromEnvironment(["OMNIFIN_SIGNUP": "domains:"]) }
        #expect(try ServerConfiguration.fromEnvironment(["OMNIFIN_SIGNUP": "domains:Example.com, example.org"]).signup == .domains(["example.com", "example.org"]))
        #expect(try ServerConfiguration.fromEnvironment([:]).signup == nil)
    }

    @Test("the first administrator comes from the one-time setup token, once")
    func setupToken() async throws {
        try await APIHarness.withAPI(.sqlite, live: true) { api in
            let (setup, token) = AdminSetup.pending()
            #expect(setup.isPending && !setup.claim("a guess") && setup.claim(token))
            #expect(!setup.claim(token))  // held by the first attempt
            setup.release()
            #expect(setup.claim(token))
            setup.finish()
            #expect(!setup.claim(token) && !setup.isPending)
            // Through the API: a wrong token is refused (and audited); the route is public.
            let wrong = try await api.request(
                .post, "/api/auth/setup", json: #"{"token": "guess", "email": "boss@example.com", "password": "a long enough passphrase", "display_name": "Boss"}"#)
            #expect(wrong.status == .forbidden && Self.code(wrong.body) == "invalid_setup_token")
        }
    }

    @Test("behind a trusted proxy the forwarded client is limited and audited; from anyone else the headers are ignored")
    func trustedProxies() async throws {
        // Loopback is the proxy: each forwarded client has its own failed-login budget.
        try await APIHarness.withAPI(
            .sqlite, live: true, configure: { $0.trustedProxies = [try! IPNetwork("127.0.0.0/8")]; $0.loginAttemptsPerMinute = 3 }
        ) { api in
            for client in 1...5 {
                for _ in 0..<3 {
                    let failed = try await api.request(
                        .post, "/api/auth/login", json: #"{"email": "nobody\#(client)@example.com", "password": "wrong passphrase"}"#,
                        headers: [HTTPField.Name("X-Forwarded-For")!: "203.0.113.\(client), 127.0.0.1"])
                    #expect(failed.status == .unauthorized, "client \(client): \(failed.status)")
                }
            }
            // The fourth try of one forwarded client waits; the others are not affected.
            let fourth = try await api.request(
                .post, "/api/auth/login", json: #"{"email": "other@example.com", "password": "wrong passphrase"}"#,
                headers: [HTTPField.Name("X-Forwarded-For")!: "203.0.113.1"])
            #expect(fourth.status == .tooManyRequests)
            let fresh = try await api.request(
                .post, "/api/auth/login", json: #"{"email": "other@example.com", "password": "wrong passphrase"}"#,
                headers: [HTTPField.Name("Forwarded")!: #"for="[2001:db8::7]:4711";proto=https"#])
            #expect(fresh.status == .unauthorized)
            // The audit log names the forwarded client, not the proxy.
            let admin = try await api.signUpAdmin("root@example.com", password: "a long enough passphrase")
            let audit = try await api.request(.get, "/api/admin/audit?action=auth.login_failed&limit=200", token: admin)
            let addresses = Set(((audit.body["entries"] as? [[String: Any]]) ?? []).compactMap { $0["ip"] as? String })
            #expect(addresses.isSuperset(of: ["203.0.113.1", "203.0.113.5", "2001:db8::7"]) && !addresses.contains("127.0.0.1"), "\(addresses)")
        }
        // Loopback is not a trusted proxy: rotating headers change nothing, the socket's address counts.
        try await APIHarness.withAPI(
            .sqlite, live: true, configure: { $0.trustedProxies = [try! IPNetwork("10.0.0.0/8")]; $0.loginAttemptsPerMinute = 3 }
        ) { api in
            var statuses: [HTTPResponse.Status] = []
            for client in 1...5 {
                let failed = try await api.request(
                    .post, "/api/auth/login", json: #"{"email": "nobody\#(client)@example.com", "password": "wrong passphrase"}"#,
                    headers: [HTTPField.Name("X-Forwarded-For")!: "198.51.100.\(client)"])
                statuses.append(failed.status)
            }
            #expect(statuses.suffix(2).allSatisfy { $0 == .tooManyRequests }, "\(statuses)")
        }
        // The rules themselves.
        let trusted = [try IPNetwork("10.0.0.0/8"), try IPNetwork("fd00::/8")]
        #expect(ClientAddress.resolve(peer: "192.0.2.1", forwarded: [], forwardedFor: ["1.2.3.4"], trusted: trusted) == "192.0.2.1")
        #expect(ClientAddress.resolve(peer: "10.0.0.2", forwarded: [], forwardedFor: ["6.6.6.6, 1.2.3.4, 10.0.0.9"], trusted: trusted) == "1.2.3.4")
        #expect(ClientAddress.resolve(peer: "10.0.0.2", forwarded: [], forwardedFor: ["garbage, 10.0.0.9"], trusted: trusted) == "10.0.0.9")
        #expect(ClientAddress.resolve(peer: "fd00::1", forwarded: [#"for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711""#], forwardedFor: ["9.9.9.9"], trusted: trusted)
            == "2001:db8:cafe::17")
        #expect(ClientAddress.resolve(peer: "::ffff:10.1.2.3", forwarded: [], forwardedFor: ["8.8.8.8"], trusted: trusted) == "8.8.8.8")
        #expect(throws: ServerConfiguration.Invalid.self) { try ServerConfiguration.fromEnvironment(["OMNIFIN_TRUSTED_PROXIES": "10.0.0.0/33"]) }
        #expect(throws: ServerConfiguration.Invalid.self) { try ServerConfiguration.fromEnvironment(["OMNIFIN_TRUSTED_PROXIES": "proxy.local"]) }
    }

    @Test("'+' in a query is a space; analytics to=DAY includes that day")
    func formQueriesAndDays() async throws {
        try await APIHarness.withAPI(.sqlite, live: true) { api in
            let admin = try await api.signUpAdmin("ada@example.com", name: "Ada Admin")
            for query in ["Ada+Admin", "Ada%20Admin"] {
                let found = try await api.request(.get, "/api/admin/users?q=\(query)", token: admin)
                #expect((found.body["users"] as? [[String: Any]])?.count == 1, "\(query): \(found.body)")
            }
            _ = try await api.request(.get, "/api/knowledge?q=payment+run", token: admin)
            _ = try await api.request(.get, "/api/knowledge?q=payment%20run", token: admin)
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyy-MM-dd"
            let today = formatter.string(from: Date())
            let report = try await api.request(.get, "/api/admin/analytics?from=\(today)&to=\(today)", token: admin)
            #expect(report.status == .ok, "\(report.body)")
            let totals = try #require(report.body["totals"] as? [String: Any], "\(report.body)")
            #expect(totals["searches"] as? Int == 2, "\(totals)")
            let top = try #require(report.body["top_searches"] as? [[String: Any]], "\(report.body)")
            #expect(top.count == 1 && top.first?["count"] as? Int == 2, "\(top)")
        }
    }

    @Test("/metrics needs its token or a local client; /readyz names no file; voice switched off answers 503 and says so")
    func publicRoutesAndVoiceOff() async throws {
        try await APIHarness.withAPI(.sqlite, live: true, configure: { $0.speech.stt = .off }) { api in
            // Local clients may read /metrics without a token (a Prometheus on this machine).
            #expect(try await api.request(.get, "/metrics").status == .ok)
            let ready = try await api.request(.get, "/readyz")
            let text = String(decoding: try JSONSerialization.data(withJSONObject: ready.body), as: UTF8.self)
            #expect(ready.status == .ok && !text.contains(api.configuration.snapshotPath) && !text.contains("/tmp"), "\(text)")

            let user = try await api.signUp("u@example.com")
            let status = try await api.request(.get, "/api/chat/status", token: user)
            let stt = try #require(status.body["stt"] as? [String: Any])
            #expect(stt["available"] as? Bool == false && (stt["detail"] as? String)?.contains("OMNIFIN_STT=none") == true, "\(stt)")
            let voice = try await api.request(.post, "/api/chat/voice", token: user, headers: [.contentType: "audio/wav"])
            #expect(voice.status == .serviceUnavailable && Self.code(voice.body) == "voice_off", "\(voice.body)")
        }
        let withToken: @Sendable (inout ServerConfiguration) -> Void = { $0.metricsToken = "a-scraper-token-of-some-length" }
        try await APIHarness.withAPI(.sqlite, configure: withToken) { api in
            // With a token, only the token opens it, wherever the client is.
            let none = try await api.request(.get, "/metrics")
            let wrong = try await api.request(.get, "/metrics", token: "a-wrong-token-of-some-length")
            let right = try await api.request(.get, "/metrics", token: "a-scraper-token-of-some-length")
            #expect(none.status == .unauthorized && wrong.status == .unauthorized && right.status == .ok)
        }
        try await APIHarness.withAPI(.sqlite) { api in
            // Without a token, a client that is not on this machine (the in-process client has no address) is refused.
            let refused = try await api.request(.get, "/metrics")
            #expect(refused.status == .forbidden && Self.code(refused.body) == "metrics_local_only")
        }
        #expect(try ServerConfiguration.fromEnvironment(["OMNIFIN_STT": "none", "OMNIFIN_TTS": "none"]).speech.tts == .off)
    }

    @Test("every refused recording says what is accepted, in the same words")
    func voiceErrorsAgree() async throws {
        try await APIHarness.withAPI(.sqlite) { api in
            let user = try await api.signUp("u@example.com")
            var messages: [String] = []
            for (type, body) in [("text/plain", "hello"), ("audio/wav", "not a wav at all"), ("multipart/form-data; boundary=x", "--x--")] {
                let response = try await api.client.execute(
                    uri: "/api/chat/voice", method: .post, headers: [.authorization: "Bearer \(user)", .contentType: type], body: ByteBuffer(string: body)
                ) { (try? JSONSerialization.jsonObject(with: Data($0.body.readableBytesView))) as? [String: Any] ?? [:] }
                messages.append(((response["error"] as? [String: Any])?["message"] as? String) ?? "")
            }
            for message in messages { #expect(message.hasSuffix(VoiceController.accepted), "\(message)") }
        }
    }
}
