import ChatAPI
import Foundation
import HTTPTypes
import NIOCore
import Storage
import Retrieval
import StoreTesting
import HummingbirdTesting
import Testing

/// Every knowledge write route × role × a document the writer may and may not see, on a live server: a hidden
/// document is neither overwritten, published nor deleted, and answers as a missing one; an update that leaves out
/// `access` keeps the stored list; a widening is audited.
@Suite("Knowledge writes respect the access list", .serialized)
struct KnowledgeWriteAccessTests {
    static let password = "a long enough passphrase"

    struct Callers {
        var admin: String
        var editor: String
        var user: String
    }

    static func callers(_ api: APIHarness.Context) async throws -> Callers {
        let admin = try await api.signUpAdmin("root@example.com")
        for (email, role) in [("editor@example.com", "editor"), ("user@example.com", "user")] {
            let created = try await api.request(
                .post, "/api/admin/users", token: admin,
                json: #"{"email": "\#(email)", "password": "\#(password)", "display_name": "\#(role)", "role": "\#(role)"}"#)
            #expect(created.status == .created, "\(created.body)")
        }
        return Callers(admin: admin, editor: try await api.signIn("editor@example.com"), user: try await api.signIn("user@example.com"))
    }

    /// The board's document: only admins may see it.
    static let falcon = #"{"source": "board", "external_id": "falcon-1", "title": "Project Falcon", "body": "The board approved the acquisition of Falcon GmbH for 40 million EUR.", "access": ["role:admin"]}"#

    @Test("POST by external key, PUT, DELETE on a hidden document: editors get what a missing document gets, admins write")
    func hiddenDocument() async throws {
        try await APIHarness.withAPI(.sqlite, live: true) { api in
            let callers = try await Self.callers(api)
            let created = try await api.request(.post, "/api/knowledge", token: callers.admin, json: Self.falcon)
            #expect(created.status == .created)
            let id = try #require((created.body["document"] as? [String: Any])?["id"] as? String)
            let missing = "0f0e0d0c-0000-4000-8000-000000000000"

            // Reading: 404 for the editor and the user, exactly as for a missing id (same body but for the id).
            for token in [callers.editor, callers.user] {
                let hidden = try await api.request(.get, "/api/knowledge/\(id)", token: token)
                let absent = try await api.request(.get, "/api/knowledge/\(missing)", token: token)
                #expect(hidden.status == .notFound && absent.status == .notFound)
                #expect(Self.error(hidden)?.replacingOccurrences(of: id, with: "ID") == Self.error(absent)?.replacingOccurrences(of: missing, with: "ID"))
            }

            // The editor's upsert by the same source and external id changes nothing and is not a 200 or 201.
            let overwrite = #"{"source": "board", "external_id": "falcon-1", "title": "Project Falcon", "body": "Nothing to see here."}"#
            let upsert = try await api.request(.post, "/api/knowledge", token: callers.editor, json: overwrite)
            #expect(upsert.status == .conflict && (upsert.body["error"] as? [String: Any])?["code"] as? String == "external_id_taken", "\(upsert.body)")
            #expect(upsert.body["document"] == nil)

            // PUT and DELETE: the editor gets exactly the answer of a missing id.
            let put = try await api.request(.put, "/api/knowledge/\(id)", token: callers.editor, json: #"{"title": "t", "body": "overwritten", "access": []}"#)
            let putMissing = try await api.request(.put, "/api/knowledge/\(missing)", token: callers.editor, json: #"{"title": "t", "body": "overwritten", "access": []}"#)
            #expect(put.status == .notFound && putMissing.status == .notFound)
            #expect(Self.error(put)?.replacingOccurrences(of: id, with: "ID") == Self.error(putMissing)?.replacingOccurrences(of: missing, with: "ID"))
            let delete = try await api.request(.delete, "/api/knowledge/\(id)", token: callers.editor)
            let deleteMissing = try await api.request(.delete, "/api/knowledge/\(missing)", token: callers.editor)
            #expect(delete.status == .notFound && deleteMissing.status == .notFound)
            #expect(Self.error(delete)?.replacingOccurrences(of: id, with: "ID") == Self.error(deleteMissing)?.replacingOccurrences(of: missing, with: "ID"))
            // A plain user may not write at all.
            #expect(try await api.request(.put, "/api/knowledge/\(id)", token: callers.user, json: #"{"title": "t", "body": "b"}"#).status == .forbidden)
            #expect(try await api.request(.delete, "/api/knowledge/\(id)", token: callers.user).status == .forbidden)

            // Nothing changed: same body, same access; the user still cannot read it, and search does not find it.
            let stored = try await api.request(.get, "/api/knowledge/\(id)", token: callers.admin).body
            #expect(stored["body"] as? String == "The board approved the acquisition of Falcon GmbH for 40 million EUR.")
            #expect(stored["access"] as? [String] == ["role:admin"])
            #expect(try await api.request(.get, "/api/knowledge/\(id)", token: callers.user).status == .notFound)
            let search = try await api.request(.get, "/api/knowledge?q=Falcon%20acquisition", token: callers.user)
            #expect(((search.body["hits"] as? [[String: Any]]) ?? []).isEmpty)

            // The admin may write it: the upsert updates (200), an update without access keeps role:admin, DELETE works.
            let adminUpsert = try await api.request(
                .post, "/api/knowledge", token: callers.admin,
                json: #"{"source": "board", "external_id": "falcon-1", "title": "Project Falcon", "body": "The board approved the acquisition."}"#)
            #expect(adminUpsert.status == .ok && adminUpsert.body["change"] as? String == "updated")
            #expect((adminUpsert.body["document"] as? [String: Any])?["access"] as? [String] == ["role:admin"])
            #expect(try await api.request(.delete, "/api/knowledge/\(id)", token: callers.admin).status == .noContent)
        }
    }

    @Test("an update that leaves out access keeps the list; widening and narrowing it are explicit and audited")
    func accessKeptAndAudited() async throws {
        try await APIHarness.withAPI(.sqlite, live: true) { api in
            let callers = try await Self.callers(api)
            let created = try await api.request(
                .post, "/api/knowledge", token: callers.editor,
                json: #"{"title": "Supplier bank change checklist", "body": "Call back the supplier on a known number.", "access": ["role:editor"]}"#)
            #expect(created.status == .created)
            let id = try #require((created.body["document"] as? [String: Any])?["id"] as? String)
            #expect(try await api.request(.get, "/api/knowledge/\(id)", token: callers.user).status == .notFound)

            // PUT without access: the text changes, the list stays; the user still cannot read it.
            let edited = try await api.request(
                .put, "/api/knowledge/\(id)", token: callers.editor, json: #"{"title": "Supplier bank change checklist", "body": "Call back on a known number."}"#)
            #expect(edited.status == .ok && (edited.body["document"] as? [String: Any])?["access"] as? [String] == ["role:editor"])
            #expect(try await api.request(.get, "/api/knowledge/\(id)", token: callers.user).status == .notFound)
            // Metadata only (tags), still without access: the list stays.
            let tagged = try await api.request(
                .put, "/api/knowledge/\(id)", token: callers.editor,
                json: #"{"title": "Supplier bank change checklist", "body": "Call back on a known number.", "tags": ["fraud"]}"#)
            #expect(tagged.body["change"] as? String == "metadata_updated" && (tagged.body["document"] as? [String: Any])?["access"] as? [String] == ["role:editor"])

            // Widening to everyone is explicit and lands in the audit log with before and after.
            let widened = try await api.request(
                .put, "/api/knowledge/\(id)", token: callers.editor,
                json: #"{"title": "Supplier bank change checklist", "body": "Call back on a known number.", "tags": ["fraud"], "access": []}"#)
            #expect(widened.status == .ok)
            #expect(try await api.request(.get, "/api/knowledge/\(id)", token: callers.user).status == .ok)
            let audit = try await api.request(.get, "/api/admin/audit?action=knowledge.access_widened", token: callers.admin)
            let entry = try #require((audit.body["entries"] as? [[String: Any]])?.first, "\(audit.body)")
            #expect(entry["target"] as? String == "document:\(id)")
            let detail = try #require(entry["detail"] as? [String: Any])
            #expect(detail["before"] as? [String] == ["role:editor"] && detail["after"] as? [String] == [])

            // Narrowing is audited as a change, not a widening.
            _ = try await api.request(
                .put, "/api/knowledge/\(id)", token: callers.editor,
                json: #"{"title": "Supplier bank change checklist", "body": "Call back on a known number.", "tags": ["fraud"], "access": ["group:treasury"]}"#)
            let narrowed = try await api.request(.get, "/api/admin/audit?action=knowledge.access_changed", token: callers.admin)
            #expect((narrowed.body["entries"] as? [[String: Any]])?.first?["target"] as? String == "document:\(id)")
        }
    }

    @Test("an editor's import neither changes nor prunes a document the editor may not see, and says so")
    func importRespectsAccess() async throws {
        try await APIHarness.withAPI(.sqlite, live: true) { api in
            let callers = try await Self.callers(api)
            let lines = [
                #"{"id": "c-1", "name": "Contoso payment terms", "text": "Contoso pays within 30 days."}"#,
                #"{"id": "c-2", "name": "Fabrikam payment terms", "text": "Fabrikam pays within 45 days."}"#,
            ]
            let first = try await Self.importLines(api, token: callers.admin, lines: lines, query: "source=terms&type=terms")
            #expect(first["status"] as? String == "completed" && first["processed"] as? Int == 2, "\(first)")
            // The admin hides Fabrikam from everyone below admin.
            let list = try await api.request(.get, "/api/knowledge?source=terms", token: callers.admin)
            let fabrikam = try #require((list.body["documents"] as? [[String: Any]])?.first { ($0["title"] as? String)?.hasPrefix("Fabrikam") == true })
            let fabrikamID = try #require(fabrikam["id"] as? String)
            let hidden = try await api.request(
                .put, "/api/knowledge/\(fabrikamID)", token: callers.admin,
                json: #"{"title": "Fabrikam payment terms", "body": "Fabrikam pays within 45 days.", "kind": "record", "source": "terms", "external_id": "\#(fabrikam["external_id"] as? String ?? "")", "access": ["role:admin"]}"#)
            #expect(hidden.status == .ok, "\(hidden.body)")

            // The editor re-imports with a change to Fabrikam, and prunes with an export that lacks it.
            let changed = try await Self.importLines(
                api, token: callers.editor, lines: [lines[0], #"{"id": "c-2", "name": "Fabrikam payment terms", "text": "Fabrikam pays at once."}"#],
                query: "source=terms&type=terms")
            #expect(changed["skipped"] as? Int == 1, "\(changed)")
            #expect(((changed["errors"] as? [[String: Any]]) ?? []).contains { ($0["message"] as? String)?.contains("may not change") == true })
            let pruned = try await Self.importLines(api, token: callers.editor, lines: [lines[0]], query: "source=terms&type=terms&prune=true")
            #expect(pruned["status"] as? String == "completed", "\(pruned)")
            let after = try await api.request(.get, "/api/knowledge/\(fabrikamID)", token: callers.admin)
            #expect(after.status == .ok && after.body["body"] as? String == "Fabrikam pays within 45 days." && after.body["access"] as? [String] == ["role:admin"])
        }
    }

    static func error(_ response: (status: HTTPResponse.Status, body: [String: Any], headers: HTTPFields)) -> String? {
        (response.body["error"] as? [String: Any])?["message"] as? String
    }

    /// Uploads JSON Lines as an import and waits for its job to end.
    static func importLines(_ api: APIHarness.Context, token: String, lines: [String], query: String) async throws -> [String: Any] {
        let accepted = try await api.client.execute(
            uri: "/api/knowledge/import?\(query)&format=jsonl&filename=terms.jsonl", method: .post,
            headers: [.authorization: "Bearer \(token)", .contentType: "application/x-ndjson"], body: ByteBuffer(string: lines.joined(separator: "\n"))
        ) { response in (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:] }
        let job = try #require(accepted["job"] as? String, "\(accepted)")
        for _ in 0..<200 {
            let report = try await api.request(.get, "/api/knowledge/import/\(job)", token: token).body
            if ["completed", "failed", "cancelled"].contains(report["status"] as? String ?? "") { return report }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the import job \(job) did not end")
        return [:]
    }
}
