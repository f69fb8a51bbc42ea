import ChatAPI
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Storage
import StoreTesting
import Testing

private func errorCode(_ body: [String: Any]) -> String? { (body["error"] as? [String: Any])?["code"] as? String }
private func errorField(_ body: [String: Any]) -> String? { (body["error"] as? [String: Any])?["field"] as? String }

@Suite("Admin, prompts, analytics, audit, cookie sessions", .serialized)
struct AdminAPITests {
    @Test("admin users: list, search, filter, create, update, delete; audited and notified; no self-promotion", arguments: StoreKind.allCases)
    func users(kind: StoreKind) async throws {
        try await APIHarness.withAPI(kind) { api in
            let admin = try await api.signUpAdmin("root@example.com", name: "Root")
            let user = try await api.signUp("ulla@example.com", name: "Ulla")

            // Users cannot reach the admin routes, nor raise their own role through the profile.
            #expect(try await api.request(.get, "/api/admin/users", token: user).status == .forbidden)
            #expect(try await api.request(.post, "/api/admin/users", token: user, json: #"{"email": "x@example.com", "password": "a long passphrase", "display_name": "X"}"#).status == .forbidden)
            let selfPromote = try await api.request(.put, "/api/auth/profile", token: user, json: #"{"role": "admin"}"#)
            #expect(selfPromote.status == .forbidden && errorCode(selfPromote.body) == "own_role")

            let created = try await api.request(
                .post, "/api/admin/users", token: admin,
                json: #"{"email": "Ed@Example.com", "password": "a long passphrase", "display_name": "Ed", "role": "editor", "groups": ["ap", "ap"]}"#)
            #expect(created.status == .created, "\(created.body)")
            let edID = try #require(created.body["id"] as? String)
            #expect(created.body["role"] as? String == "editor" && created.body["verified"] as? Bool == true)
            #expect(created.body["groups"] as? [String] == ["ap"] && created.body["password_hash"] == nil)
            #expect(try await api.mails(to: "ed@example.com").first?.contains("with the role editor") == true)
            let dup = try await api.request(
                .post, "/api/admin/users", token: admin, json: #"{"email": "ed@example.com", "password": "a long passphrase", "display_name": "Ed"}"#)
            #expect(dup.status == .conflict && errorField(dup.body) == "email")
            let badRole = try await api.request(
                .post, "/api/admin/users", token: admin, json: #"{"email": "z@example.com", "password": "a long passphrase", "display_name": "Z", "role": "root"}"#)
            #expect(badRole.status == .badRequest && errorField(badRole.body) == "role")

            let all = try await api.request(.get, "/api/admin/users?limit=2", token: admin)
            #expect(all.status == .ok && all.body["total"] as? Int == 3 && (all.body["users"] as? [[String: Any]])?.count == 2)
            let searched = try await api.request(.get, "/api/admin/users?q=ULL", token: admin)
            #expect(((searched.body["users"] as? [[String: Any]]) ?? []).map { $0["email"] as? String } == ["ulla@example.com"])
            let editors = try await api.request(.get, "/api/admin/users?role=editor&status=active", token: admin)
            #expect(editors.body["total"] as? Int == 1)
            #expect(try await api.request(.get, "/api/admin/users?status=gone", token: admin).status == .badRequest)
            #expect(errorField(try await api.request(.get, "/api/admin/users?limit=0", token: admin).body) == "limit")

            // Change a role and disable: the user's sessions end, they are told, and the audit log has before and after.
            let userID = try #require((searched.body["users"] as? [[String: Any]])?.first?["id"] as? String)
            let updated = try await api.request(.put, "/api/admin/users/\(userID)", token: admin, json: #"{"role": "editor", "disabled": true}"#)
            #expect(updated.status == .ok && updated.body["role"] as? String == "editor" && updated.body["disabled"] as? Bool == true)
            #expect(try await api.request(.get, "/api/auth/profile", token: user).status == .unauthorized)
            let notice = try await api.mails(to: "ulla@example.com", atLeast: 2).last ?? ""
            #expect(notice.contains("your role is now editor (was user)") && notice.contains("your account is disabled"), "\(notice)")
            let login = try await api.request(.post, "/api/auth/login", json: #"{"email": "ulla@example.com", "password": "a long enough passphrase"}"#)
            #expect(login.status == .forbidden && errorCode(login.body) == "account_disabled")

            let audit = try await api.request(.get, "/api/admin/audit?action=user.update", token: admin)
            let entry = try #require((audit.body["entries"] as? [[String: Any]])?.first)
            let detail = try #require(entry["detail"] as? [String: Any])
            #expect((detail["before"] as? [String: Any])?["role"] as? String == "user")
            #expect((detail["after"] as? [String: Any])?["role"] as? String == "editor" && entry["target"] as? String == "user:\(userID)")

            // Admins cannot demote, disable or delete themselves, and the last admin stays.
            let me = try #require((try await api.request(.get, "/api/auth/profile", token: admin)).body["id"] as? String)
            #expect(errorCode(try await api.request(.put, "/api/admin/users/\(me)", token: admin, json: #"{"role": "user"}"#).body) == "own_role")
            #expect(errorCode(try await api.request(.put, "/api/admin/users/\(me)", token: admin, json: #"{"disabled": true}"#).body) == "own_account")
            #expect(try await api.request(.delete, "/api/admin/users/\(me)", token: admin).status == .forbidden)
            #expect(try await api.request(.put, "/api/admin/users/nope", token: admin, json: #"{"role": "user"}"#).status == .notFound)

            #expect(try await api.request(.delete, "/api/admin/users/\(edID)", token: admin).status == .noContent)
            #expect(try await api.request(.get, "/api/admin/users/\(edID)", token: admin).status == .notFound)
            #expect(try await api.mails(to: "ed@example.com", atLeast: 2).last?.contains("deleted your Omnifin account") == true)
            let deletions = try await api.request(.get, "/api/admin/audit?action=user.", token: admin)
            #expect(((deletions.body["entries"] as? [[String: Any]]) ?? []).compactMap { $0["action"] as? String }.prefix(3) == ["user.delete", "user.update", "user.create"])
            // The denied requests were audited too.
            let denied = try await api.request(.get, "/api/admin/audit?action=security.denied", token: admin)
            #expect(((denied.body["entries"] as? [[String: Any]]) ?? []).count >= 3)
        }
    }

    @Test("prompts: defaults seeded, placeholders validated, new versions, one active", arguments: StoreKind.allCases)
    func prompts(kind: StoreKind) async throws {
        try await APIHarness.withAPI(kind) { api in
            let admin = try await api.signUpAdmin("root@example.com")
            let user = try await api.signUp("u@example.com")
            #expect(try await api.request(.get, "/api/admin/prompts", token: user).status == .forbidden)
            let list = try await api.request(.get, "/api/admin/prompts?name=answer", token: admin)
            let seeded = try #require((list.body["prompts"] as? [[String: Any]])?.first)
            #expect(seeded["version"] as? Int == 1 && seeded["active"] as? Bool == true)
            #expect((seeded["placeholders"] as? [String]).map(Set.init) == ["context", "history", "question"])

            let unknown = try await api.request(.post, "/api/admin/prompts", token: admin, json: #"{"name": "answer", "template": "{{context}} {{question}} {{secret}}"}"#)
            #expect(unknown.status == .badRequest && errorField(unknown.body) == "template")
            #expect((unknown.body["error"] as? [String: Any])?["message"] as? String == "unknown placeholder {{secret}}; 'answer' may use {{context}}, {{history}}, {{question}}")
            let missing = try await api.request(.post, "/api/admin/prompts", token: admin, json: #"{"name": "answer", "template": "only {{question}}"}"#)
            #expect((missing.body["error"] as? [String: Any])?["message"] as? String == "the 'answer' template must contain {{context}}")
            let unclosed = try await api.request(.post, "/api/admin/prompts", token: admin, json: #"{"name": "answer", "template": "{{context}} {{question"}"#)
            #expect(unclosed.status == .badRequest)
            #expect(errorField(try await api.request(.post, "/api/admin/prompts", token: admin, json: #"{"name": "poem", "template": "x"}"#).body) == "name")

            let v2 = try await api.request(
                .post, "/api/admin/prompts", token: admin, json: #"{"name": "answer", "template": "Passages: {{context}}\nQ: {{question}}"}"#)
            #expect(v2.status == .created && v2.body["version"] as? Int == 2 && v2.body["active"] as? Bool == true)
            let v1ID = try #require(seeded["id"] as? String)
            let v3 = try await api.request(.put, "/api/admin/prompts/\(v1ID)", token: admin, json: #"{"template": "{{ context }} / {{ question }}", "activate": false}"#)
            #expect(v3.body["version"] as? Int == 3 && v3.body["active"] as? Bool == false)
            let back = try await api.request(.put, "/api/admin/prompts/\(v1ID)", token: admin, json: #"{"activate": true}"#)
            #expect(back.status == .ok && back.body["version"] as? Int == 1 && back.body["active"] as? Bool == true)
            let versions = try await api.request(.get, "/api/admin/prompts?name=answer", token: admin)
            let rows = (versions.body["prompts"] as? [[String: Any]]) ?? []
            #expect(rows.map { $0["version"] as? Int } == [3, 2, 1] && rows.filter { $0["active"] as? Bool == true }.count == 1)
            #expect(try await api.request(.put, "/api/admin/prompts/missing", token: admin, json: #"{"activate": true}"#).status == .notFound)
            let audit = try await api.request(.get, "/api/admin/audit?action=prompt.", token: admin)
            #expect(((audit.body["entries"] as? [[String: Any]]) ?? []).count == 3)
        }
    }

    @Test("analytics: events counted per day, CSV export, live counters over SSE, client events")
    func analytics() async throws {
        try await APIHarness.withAPI(.sqlite) { api in
            let admin = try await api.signUpAdmin("root@example.com")
            let user = try await api.signUp("u@example.com")
            let day = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18
            let start = Calendar(identifier: .gregorian).startOfDay(for: day)
            try await api.store.recordEvents([
                AnalyticsEvent(kind: "chat.message", userID: "a", occurredAt: start + 3600, data: #"{"latency_ms": 100, "answered": true}"#),
                AnalyticsEvent(kind: "chat.message", userID: "b", occurredAt: start + 7200, data: #"{"latency_ms": 300, "answered": true}"#),
                AnalyticsEvent(kind: "chat.message", userID: "a", occurredAt: start + 86_400 + 60, data: #"{"latency_ms": 200, "answered": false}"#),
                AnalyticsEvent(kind: "chat.feedback", userID: "a", occurredAt: start + 86_400 + 120, data: #"{"value": -1}"#),
            ])
            #expect(try await api.request(.get, "/api/admin/analytics", token: user).status == .forbidden)
            let from = ISO8601DateFormatter().string(from: start)
            let to = ISO8601DateFormatter().string(from: start + 2 * 86_400)
            let report = try await api.request(.get, "/api/admin/analytics?from=\(from)&to=\(to)&interval=day", token: admin)
            #expect(report.status == .ok, "\(report.body)")
            let totals = try #require(report.body["totals"] as? [String: Any])
            #expect(totals["messages"] as? Int == 3 && totals["unanswered"] as? Int == 1 && totals["active_users"] as? Int == 2)
            #expect(totals["feedback_down"] as? Int == 1 && totals["latency_ms_avg"] as? Double == 200 && totals["latency_ms_p95"] as? Double == 300)
            let series = try #require(report.body["series"] as? [[String: Any]])
            #expect(series.map { $0["messages"] as? Int } == [2, 1])

            let csv = try await api.client.execute(uri: "/api/admin/analytics?from=\(from)&to=\(to)&format=csv", method: .get, headers: [.authorization: "Bearer \(admin)"], body: nil) { response in
                (response.headers[.contentType], String(buffer: response.body))
            }
            #expect(csv.0 == "text/csv; charset=utf-8")
            let lines = csv.1.split(separator: "\r\n")
            #expect(lines.count == 3 && lines[0].hasPrefix("start,messages,answered,unanswered,active_users"))
            #expect(lines[1].hasPrefix("2026-11-18T00:00:00Z,2,2,0,2,"))

            #expect(errorField(try await api.request(.get, "/api/admin/analytics?interval=minute", token: admin).body) == "interval")
            #expect(errorField(try await api.request(.get, "/api/admin/analytics?from=yesterday", token: admin).body) == "from")
            #expect(errorField(try await api.request(.get, "/api/admin/analytics?from=\(to)&to=\(from)", token: admin).body) == "from")

            let event = try await api.request(.post, "/api/analytics/events", token: user, json: #"{"kind": "ui.copy_answer", "data": {"message_id": "m1"}}"#)
            #expect(event.status == .accepted)
            #expect(errorField(try await api.request(.post, "/api/analytics/events", token: user, json: #"{"kind": "Bad Kind"}"#).body) == "kind")
            #expect(errorField(try await api.request(.post, "/api/analytics/events", token: user, json: #"{"kind": "x", "data": [1]}"#).body) == "data")
            // Events are written in batches a fraction of a second later, without anyone asking for a report.
            var stored: [AnalyticsEvent] = []
            for _ in 0..<40 where stored.isEmpty {
                try await Task.sleep(for: .milliseconds(50))
                stored = try await api.store.analyticsEvents(from: Date() - 60, to: Date() + 60, kinds: ["client.ui.copy_answer"], afterID: nil, limit: 10)
            }
            #expect(stored.count == 1 && stored.first?.data.contains("m1") == true)

            let live = try await api.client.execute(uri: "/api/admin/analytics/stream?every=1&count=2", method: .get, headers: [.authorization: "Bearer \(admin)"], body: nil) { response in
                (response.headers[.contentType], String(buffer: response.body))
            }
            #expect(live.0 == "text/event-stream")
            #expect(live.1.components(separatedBy: "event: counters\n").count == 3 && live.1.contains("\"logins\":2"))
        }
    }

    @Test("the live counters end when the admin who opened them signs out")
    func streamEndsWithTheSession() async throws {
        try await APIHarness.withAPI(.sqlite, live: true) { api in
            let admin = try await api.signUpAdmin("root@example.com")
            let stream = Task {
                try await api.client.execute(
                    uri: "/api/admin/analytics/stream?every=1&count=30", method: .get, headers: [.authorization: "Bearer \(admin)"], body: nil
                ) { String(buffer: $0.body) }
            }
            try await Task.sleep(for: .milliseconds(1_300))
            // Signed out on another connection (the test client's own is busy with the stream).
            var logout = URLRequest(url: URL(string: "http://127.0.0.1:\(try #require(api.client.port))/api/auth/logout")!)
            logout.httpMethod = "POST"
            logout.setValue("Bearer \(admin)", forHTTPHeaderField: "Authorization")
            let (_, response) = try await URLSession.shared.data(for: logout)
            #expect((response as? HTTPURLResponse)?.statusCode == 204)
            let text = try await stream.value
            #expect(text.contains("event: ended") && text.components(separatedBy: "event: counters\n").count <= 4, "\(text)")
        }
    }

    @Test("cookie sessions: HttpOnly SameSite cookie, CSRF token required on unsafe methods, logout clears it")
    func cookies() async throws {
        try await APIHarness.withAPI(.sqlite) { api in
            _ = try await api.signUpAdmin("root@example.com")
            let login = try await api.request(.post, "/api/auth/login", json: #"{"email": "root@example.com", "password": "a long enough passphrase", "use_cookie": true}"#)
            let setCookie = try #require(login.headers[.setCookie])
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.hasPrefix("omnifin_session="))
            let csrf = try #require(login.body["csrf_token"] as? String)
            // The session lives in the HttpOnly cookie only: a script in the page never sees a token it could send.
            #expect(login.body["token"] == nil, "\(login.body)")
            let cookie = String(setCookie.prefix { $0 != ";" })
            let csrfHeader = HTTPField.Name("X-CSRF-Token")!

            let session = try await api.request(.get, "/api/auth/session", headers: [.cookie: cookie])
            #expect(session.status == .ok && session.body["csrf_token"] as? String == csrf)
            let body = #"{"title": "Cookie note", "body": "Written from a web page."}"#
            let forged = try await api.request(.post, "/api/knowledge", json: body, headers: [.cookie: cookie])
            #expect(forged.status == .forbidden && errorCode(forged.body) == "csrf_failed")
            let wrong = try await api.request(.post, "/api/knowledge", json: body, headers: [.cookie: cookie, csrfHeader: String(csrf.reversed())])
            #expect(wrong.status == .forbidden)
            #expect(try await api.request(.post, "/api/knowledge", json: body, headers: [.cookie: cookie, csrfHeader: csrf]).status == .created)

            // A bearer login gets no cookie and needs no CSRF token.
            let bearer = try await api.request(.post, "/api/auth/login", json: #"{"email": "root@example.com", "password": "a long enough passphrase"}"#)
            #expect(bearer.headers[.setCookie] == nil && bearer.body["csrf_token"] == nil && bearer.body["token"] as? String != nil)

            let logout = try await api.request(.post, "/api/auth/logout", headers: [.cookie: cookie, csrfHeader: csrf])
            #expect(logout.status == .noContent && logout.headers[.setCookie]?.contains("Max-Age=0") == true)
            #expect(try await api.request(.get, "/api/auth/session", headers: [.cookie: cookie]).status == .unauthorized)
        }
    }

    @Test("a session token stops working when it expires")
    func expiry() async throws {
        try await APIHarness.withAPI(.sqlite, configure: { $0.sessionLifetime = 1 }) { api in
            let token = try await api.signUp("root@example.com")  // any account
            #expect(try await api.request(.get, "/api/auth/profile", token: token).status == .ok)
            try await Task.sleep(for: .milliseconds(1_300))
            #expect(try await api.request(.get, "/api/auth/profile", token: token).status == .unauthorized)
        }
    }

    @Test("re-sending the confirmation: same answer for every address, a working new link, rate-limited")
    func resend() async throws {
        try await APIHarness.withAPI(.sqlite) { api in
            let registered = try await api.request(
                .post, "/api/auth/register", json: #"{"email": "new@example.com", "password": "a long passphrase", "display_name": "New"}"#)
            #expect(registered.status == .created)
            _ = try await api.mails(to: "new@example.com")
            let resent = try await api.request(.post, "/api/auth/resend-verification", json: #"{"email": "new@example.com"}"#)
            let unknown = try await api.request(.post, "/api/auth/resend-verification", json: #"{"email": "nobody@example.com"}"#)
            #expect(resent.status == .accepted && unknown.status == .accepted)
            #expect((resent.body["message"] as? String)?.contains("if new@example.com") == true)
            let token = try await api.confirmationToken(for: "new@example.com", mailNumber: 2)
            #expect(try await api.request(.post, "/api/auth/verify", json: #"{"token": "\#(token)", "password": "a long passphrase"}"#).status == .ok)
            let again = try await api.request(.post, "/api/auth/resend-verification", json: #"{"email": "new@example.com"}"#)
            #expect(again.status == .tooManyRequests && again.headers[HTTPField.Name("Retry-After")!] != nil)
            #expect(errorField(try await api.request(.post, "/api/auth/resend-verification", json: #"{"email": "nope"}"#).body) == "email")
        }
    }

    @Test("mail that cannot be delivered stays in the outbox and is retried until it goes out")
    func outboxRetry() async throws {
        let blocker = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-blocked-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: blocker.path, contents: Data("a file where the mail folder should be".utf8))
        defer { try? FileManager.default.removeItem(at: blocker) }
        try await APIHarness.withAPI(.sqlite, configure: { $0.mailDirectory = blocker.path }) { api in
            let registered = try await api.request(
                .post, "/api/auth/register", json: #"{"email": "new@example.com", "password": "a long passphrase", "display_name": "New"}"#)
            #expect(registered.status == .created)
            var pending: [OutboxMessage] = []
            for _ in 0..<100 {
                pending = try await api.store.outbox(pendingOnly: true, limit: 10)
                if pending.first?.attempts ?? 0 >= 2 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(pending.count == 1 && (pending.first?.attempts ?? 0) >= 2 && pending.first?.lastError != nil)
            // The folder becomes writable: the next retry delivers.
            try FileManager.default.removeItem(at: blocker)
            for _ in 0..<100 {
                if try await api.store.outbox(pendingOnly: true, limit: 10).isEmpty { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await api.store.outbox(pendingOnly: true, limit: 10).isEmpty)
            let files = try FileManager.default.contentsOfDirectory(atPath: blocker.path)
            #expect(files.count == 1)
        }
    }
}

@Suite("Data key")
struct DataSealerTests {
    @Test("seals and opens; another key, a damaged value or a bad OMNIFIN_DATA_KEY fail clearly; the key file is 0600")
    func sealing() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-key-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("data.key").path
        let sealer = try DataSealer.load(base64: nil, keyFile: file)
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let sealed = try sealer.seal("What is the approval limit? 5 000 €")
        #expect(!String(decoding: sealed, as: UTF8.self).contains("approval"))
        #expect(try sealer.open(sealed) == "What is the approval limit? 5 000 €")
        #expect(try DataSealer.load(base64: nil, keyFile: file).open(sealed) == "What is the approval limit? 5 000 €")
        let other = try DataSealer.load(base64: Data(repeating: 7, count: 32).base64EncodedString(), keyFile: file)
        #expect(throws: DataSealer.Failure.self) { try other.open(sealed) }
        var damaged = sealed
        damaged[20] ^= 1
        #expect(throws: DataSealer.Failure.self) { try sealer.open(damaged) }
        #expect(throws: DataSealer.Failure.self) { try DataSealer.load(base64: "c2hvcnQ=", keyFile: file) }
        #expect(try sealer.seal("same") != sealer.seal("same"))
    }
}
