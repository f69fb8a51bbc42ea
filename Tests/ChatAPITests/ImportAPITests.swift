@testable import ChatAPI
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Storage
import StoreTesting
import Testing

@Suite("Knowledge import over HTTP", .serialized)
struct ImportAPITests {
    @Test("an editor uploads an export, the job runs in the background, its records become searchable; users may not import")
    func importJob() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-import-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await APIHarness.withAPI(.sqlite, configure: { $0.importDirectory = directory.path }) { api in
            let admin = try await api.signUpAdmin("root@example.com")
            let user = try await api.signUp("u@example.com")
            let export = """
                <?xml version="1.0"?>
                <odoo>
                  <record id="ticket_1" model="helpdesk.ticket">
                    <field name="name">Duplicate payment to supplier Exotic Liquids</field>
                    <field name="description" type="html"><p>The payment run of Friday paid invoice <b>INV-2291</b> twice.</p></field>
                  </record>
                  <record model="helpdesk.ticket"><field name="name">Lost its id</field></record>
                </odoo>
                """
            func upload(_ token: String, query: String = "source=helpdesk&filename=tickets.xml", body: String = export) async throws -> (HTTPResponse.Status, [String: Any]) {
                try await api.client.execute(
                    uri: "/api/knowledge/import?\(query)", method: .post, headers: [.authorization: "Bearer \(token)", .contentType: "application/xml"],
                    body: ByteBuffer(string: body)
                ) { response in
                    (response.status, (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:])
                }
            }
            #expect(try await upload(user).0 == .forbidden)
            #expect(try await upload(admin, body: "").0 == .badRequest)
            #expect(try await upload(admin, query: "format=excel").0 == .badRequest)
            let (status, accepted) = try await upload(admin)
            #expect(status == .accepted)
            let job = try #require(accepted["job"] as? String)
            var report: [String: Any] = [:]
            for _ in 0..<100 {
                report = try await api.request(.get, "/api/knowledge/import/\(job)", token: admin).body
                if report["status"] as? String == "completed" || report["status"] as? String == "failed" { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(report["status"] as? String == "completed" && report["processed"] as? Int == 1 && report["skipped"] as? Int == 1, "\(report)")
            let problem = try #require((report["errors"] as? [[String: Any]])?.first)
            #expect((problem["message"] as? String)?.contains("has no id") == true && problem["line"] as? Int != nil)
            let found = try await api.request(.get, "/api/knowledge?q=duplicate%20payment%20INV-2291", token: user)
            #expect(((found.body["hits"] as? [[String: Any]]) ?? []).first?["title"] as? String == "Duplicate payment to supplier Exotic Liquids")
            #expect(try await api.request(.get, "/api/knowledge/import/\(job)", token: user).status == .forbidden)
            #expect(try await api.request(.get, "/api/knowledge/import/nope", token: admin).status == .notFound)
            // The upload is removed once its job completed.
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).isEmpty)
        }
    }
}
