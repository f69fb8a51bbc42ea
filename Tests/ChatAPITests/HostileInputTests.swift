import ChatAPI
import Foundation
import HTTPTypes
import Storage
import StoreTesting
import Testing

/// SQL injection and cross-site scripting payloads in every text field: stored verbatim, returned verbatim, harmless.
/// (Free text is trimmed of outer white space; tags may not hold commas, group names are identifiers: both are
/// refused with a 400 naming the field, as the API documents, so the payloads go into free-text fields.)
@Suite("Hostile input in every text field", .serialized)
struct HostileInputTests {
    /// Each is valid text a user may legitimately type; none may change what a statement does or be served as HTML.
    static let payloads = [
        #"Robert'); DROP TABLE users; --"#,
        #"' OR '1'='1' --"#,
        #"1; DELETE FROM documents WHERE 1=1; SELECT pg_sleep(5); --"#,
        #"<script>alert(document.cookie)</script>"#,
        #"<img src=x onerror="fetch('/api/auth/logout',{method:'POST'})">"#,
        #"\u{0027}\u{0022}\\\u{005C}%_*{{question}}${7*7}`id`"#,
        "Zürich 東京 🙂 \u{202E}txt.exe",
    ]

    static func json(_ value: String) -> String {
        String(decoding: try! JSONEncoder().encode(value), as: UTF8.self)
    }

    /// A tag holds no comma and at most 50 characters (refused otherwise, with field "tags").
    static func tag(_ payload: String) -> String {
        String(payload.replacingOccurrences(of: ",", with: " ").prefix(50)).trimmingCharacters(in: .whitespaces)
    }

    static func query(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
    }

    @Test("stored and returned verbatim on both stores; searches and filters with them answer normally; nothing else changes", arguments: StoreKind.allCases)
    func payloadsEverywhere(kind: StoreKind) async throws {
        try await APIHarness.withAPI(kind) { api in
            let admin = try await api.signUpAdmin("admin@example.com")
            for (n, payload) in Self.payloads.enumerated() {
                let p = Self.json(payload)
                // Profile: the display name.
                let profile = try await api.request(.put, "/api/auth/profile", token: admin, json: #"{"display_name": \#(p)}"#)
                #expect(profile.status == .ok && profile.body["display_name"] as? String == payload, "\(profile.body)")

                // Knowledge: every text field, read back as written.
                let document: [String: Any] = [
                    "title": payload, "body": "Body \(n): " + payload, "source": "src\(n)", "external_id": payload,
                    "tags": [Self.tag(payload)],
                    "metadata": ["note": payload],
                ]
                let created = try await api.request(
                    .post, "/api/knowledge", token: admin, json: String(decoding: try JSONSerialization.data(withJSONObject: document), as: UTF8.self))
                #expect(created.status == .created, "\(payload): \(created.body)")
                let id = try #require((created.body["document"] as? [String: Any])?["id"] as? String)
                let read = try await api.request(.get, "/api/knowledge/\(id)", token: admin).body
                #expect(read["title"] as? String == payload && read["body"] as? String == "Body \(n): " + payload)
                #expect(read["external_id"] as? String == payload && read["tags"] as? [String] == [Self.tag(payload)])
                #expect((read["metadata"] as? [String: String])?["note"] == payload)
                let search = try await api.request(.get, "/api/knowledge?q=\(Self.query(payload))", token: admin)
                #expect(search.status == .ok, "\(payload): \(search.body)")
                let filtered = try await api.request(.get, "/api/knowledge?source=\(Self.query(payload))", token: admin)
                #expect(filtered.status == .ok && (filtered.body["documents"] as? [Any])?.isEmpty == true, "\(filtered.body)")

                // Chat: the question and a feedback comment, back through the history.
                let asked = try await api.request(.post, "/api/chat/message", token: admin, json: #"{"message": \#(p)}"#)
                #expect(asked.status == .ok, "\(payload): \(asked.body)")
                let conversation = try #require(asked.body["conversation_id"] as? String)
                let messageID = try #require(asked.body["message_id"] as? String)
                let feedback = try await api.request(
                    .post, "/api/chat/feedback", token: admin, json: #"{"message_id": "\#(messageID)", "value": -1, "comment": \#(p)}"#)
                #expect(feedback.status == .ok || feedback.status == .noContent, "\(feedback.body)")
                let history = try await api.request(.get, "/api/chat/history?conversation_id=\(conversation)", token: admin).body
                let question = (history["messages"] as? [[String: Any]])?.first { $0["role"] as? String == "user" }
                #expect(question?["content"] as? String == payload, "\(history)")

                // Admin: a user with the payload as name, found by searching for it; the audit log filtered by it.
                let user = try await api.request(
                    .post, "/api/admin/users", token: admin,
                    json: #"{"email": "u\#(n)@example.com", "password": "a long enough passphrase", "display_name": \#(p), "groups": ["finance"]}"#)
                #expect(user.status == .created, "\(payload): \(user.body)")
                #expect((user.body["user"] as? [String: Any] ?? user.body)["display_name"] as? String == payload, "\(user.body)")
                let badGroup = try await api.request(
                    .post, "/api/admin/users", token: admin,
                    json: #"{"email": "g\#(n)@example.com", "password": "a long enough passphrase", "display_name": "G", "groups": [\#(p)]}"#)
                #expect(badGroup.status == .badRequest && (badGroup.body["error"] as? [String: Any])?["field"] as? String == "groups")
                let found = try await api.request(.get, "/api/admin/users?q=\(Self.query(payload))", token: admin)
                #expect(found.status == .ok, "\(found.body)")
                let audit = try await api.request(.get, "/api/admin/audit?action=\(Self.query(payload))&actor=\(Self.query(payload))", token: admin)
                #expect(audit.status == .ok, "\(audit.body)")
            }
            // Nothing was dropped or deleted on the way: every account and entry is still there.
            let users = try await api.request(.get, "/api/admin/users?limit=100", token: admin).body
            #expect((users["total"] as? Int) == 1 + Self.payloads.count, "\(users)")
            #expect(try await api.store.documentCount() == Self.payloads.count)
            #expect(try await api.request(.get, "/readyz").status == .ok)
        }
    }
}
