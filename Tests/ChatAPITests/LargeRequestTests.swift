import ChatAPI
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTPTypes
import Storage
import NIOCore
import Retrieval
import StoreTesting
import HummingbirdTesting
import Testing

/// One large request must not take a core for minutes: a size limit with a 413 naming it, large bodies written by
/// a background job with progress that can be cancelled, and work that stops when the client leaves.
@Suite("Large requests", .serialized)
struct LargeRequestTests {
    /// About `bytes` of plain English prose, different on every call (so nothing is reused from an earlier write).
    static func prose(_ bytes: Int, seed: Int) -> String {
        let words = ["invoice", "approval", "supplier", "payment", "ledger", "budget", "controller", "quarter", "audit", "receipt", "travel", "policy"]
        var text = ""
        var n = seed
        while text.utf8.count < bytes {
            var sentence: [String] = []
            for _ in 0..<12 {
                n = (n &* 1_103_515_245 &+ 12_345) & 0x7fff_ffff
                sentence.append(words[n % words.count])
            }
            text += sentence.joined(separator: " ").capitalized + " \(n % 10_000).\n"
        }
        return text
    }

    static func documentJSON(title: String, body: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: ["title": title, "body": body]), as: UTF8.self)
    }

    @Test("a body above the limit is a 413 naming it; one above the inline size is written by a job with progress and a result")
    func limitAndJob() async throws {
        try await APIHarness.withAPI(.sqlite, live: true, configure: { $0.maximumDocumentBytes = 100_000; $0.inlineDocumentBytes = 16_384 }) { api in
            let editor = try await api.signUpAdmin("root@example.com")
            let tooLarge = try await api.request(.post, "/api/knowledge", token: editor, json: Self.documentJSON(title: "Huge", body: Self.prose(150_000, seed: 1)))
            #expect(tooLarge.status == .contentTooLarge && (tooLarge.body["error"] as? [String: Any])?["code"] as? String == "document_too_large")
            #expect(((tooLarge.body["error"] as? [String: Any])?["message"] as? String)?.contains("100000 bytes") == true, "\(tooLarge.body)")
            // Far above the JSON limit: refused while reading, with the limit in the message.
            let huge = try await api.request(.post, "/api/knowledge", token: editor, json: Self.documentJSON(title: "Huge", body: String(repeating: "a", count: 3_000_000)))
            #expect(huge.status == .contentTooLarge && (huge.body["error"] as? [String: Any])?["code"] as? String == "body_too_large", "\(huge.body)")

            let accepted = try await api.request(.post, "/api/knowledge", token: editor, json: Self.documentJSON(title: "Ledger notes", body: Self.prose(40_000, seed: 2)))
            #expect(accepted.status == .accepted, "\(accepted.body)")
            let job = try #require(accepted.body["job"] as? String)
            #expect(accepted.headers[.location] == "/api/knowledge/import/\(job)")
            var report: [String: Any] = [:]
            var sawProgress = false
            for _ in 0..<600 {
                report = try await api.request(.get, "/api/knowledge/import/\(job)", token: editor).body
                if report["status"] as? String == "running", let total = report["total"] as? Int, total > 0 { sawProgress = true }
                if ["completed", "failed", "cancelled"].contains(report["status"] as? String ?? "") { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(report["status"] as? String == "completed", "\(report)")
            let result = try #require(report["result"] as? [String: Any], "\(report)")
            #expect(result["change"] as? String == "created" && (result["passages"] as? Int ?? 0) > 10)
            #expect(report["processed"] as? Int == report["total"] as? Int)
            let id = try #require(result["document_id"] as? String)
            #expect(try await api.request(.get, "/api/knowledge/\(id)", token: editor).body["title"] as? String == "Ledger notes")
            _ = sawProgress  // a fast machine may finish between two looks; the final counts are checked above
            // The job is its creator's (and the admins'); another editor sees nothing.
            let other = try await api.request(
                .post, "/api/admin/users", token: editor, json: #"{"email": "ed@example.com", "password": "a long enough passphrase", "display_name": "Ed", "role": "editor"}"#)
            #expect(other.status == .created)
            let ed = try await api.signIn("ed@example.com")
            #expect(try await api.request(.get, "/api/knowledge/import/\(job)", token: ed).status == .notFound)
        }
    }

    @Test("a job can be cancelled: it stops, is marked cancelled and writes nothing")
    func cancelJob() async throws {
        try await APIHarness.withAPI(.sqlite, live: true, configure: { $0.inlineDocumentBytes = 4_096 }) { api in
            let editor = try await api.signUpAdmin("root@example.com")
            let accepted = try await api.request(.post, "/api/knowledge", token: editor, json: Self.documentJSON(title: "Long memo", body: Self.prose(400_000, seed: 3)))
            let job = try #require(accepted.body["job"] as? String, "\(accepted.body)")
            #expect(try await api.request(.delete, "/api/knowledge/import/\(job)", token: editor).status == .noContent)
            let report = try await api.request(.get, "/api/knowledge/import/\(job)", token: editor).body
            #expect(report["status"] as? String == "cancelled", "\(report)")
            #expect(api.bank.documentCount == 0)
            #expect(try await api.request(.delete, "/api/knowledge/import/\(job)", token: editor).status == .conflict)
        }
    }

    @Test("a client that goes away stops its write: the document is never written")
    func clientLeaves() async throws {
        try await APIHarness.withAPI(.sqlite, live: true, configure: { $0.inlineDocumentBytes = 1 << 20 }) { api in
            let editor = try await api.signUpAdmin("root@example.com")
            let port = try #require(api.client.port)
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/knowledge")!)
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.setValue("Bearer \(editor)", forHTTPHeaderField: "Authorization")
            request.httpBody = Data(Self.documentJSON(title: "Abandoned", body: Self.prose(300_000, seed: 4)).utf8)
            let abandoned = Task { try? await URLSession.shared.data(for: request) }
            try await Task.sleep(for: .milliseconds(1_500))
            abandoned.cancel()
            _ = await abandoned.value
            // Writes run one at a time, in order: once this small one is through, the abandoned one has ended one way or
            // the other. Had it gone on, its document would exist now.
            let small = try await api.request(.post, "/api/knowledge", token: editor, json: Self.documentJSON(title: "Small", body: "Payment runs are on Tuesdays."))
            #expect(small.status == .created)
            #expect(api.bank.documentCount == 1)
            let search = try await api.request(.get, "/api/knowledge?q=Abandoned", token: editor)
            #expect(!((search.body["hits"] as? [[String: Any]]) ?? []).contains { $0["title"] as? String == "Abandoned" })
        }
    }
}
