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

    @Test("uploading the same file again changes nothing; a dry run previews and writes nothing; a prune above its limit stops (#26)")
    func identityOverHTTP() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-import-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await APIHarness.withAPI(.sqlite, configure: { $0.importDirectory = directory.path }) { api in
            let admin = try await api.signUpAdmin("root@example.com")
            func run(_ query: String, _ body: String) async throws -> [String: Any] {
                let job: String = try await api.client.execute(
                    uri: "/api/knowledge/import?\(query)", method: .post, headers: [.authorization: "Bearer \(admin)", .contentType: "application/octet-stream"],
                    body: ByteBuffer(string: body)
                ) { response in
                    let json = (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any]
                    return try #require(json?["job"] as? String, "\(response.status) \(json ?? [:])")
                }
                for _ in 0..<200 {
                    let report = try await api.request(.get, "/api/knowledge/import/\(job)", token: admin).body
                    if ["completed", "failed"].contains(report["status"] as? String) { return report }
                    try await Task.sleep(for: .milliseconds(50))
                }
                Issue.record("job \(job) did not finish")
                return [:]
            }
            func titles(_ source: String) async throws -> [String] {
                let listed = try await api.request(.get, "/api/knowledge?source=\(source)&limit=100", token: admin).body
                return ((listed["documents"] as? [[String: Any]]) ?? []).compactMap { $0["title"] as? String }.sorted()
            }
            func summary(_ report: [String: Any]) -> [String: Any] { report["summary"] as? [String: Any] ?? [:] }

            let page = "# Plorbix\n\nThe plorbix form is signed by the controller before the month-end close.\n"
            for _ in 0..<2 { _ = try await run("source=handbook&filename=plorbix.md", page) }
            #expect(try await titles("handbook") == ["Plorbix"])
            let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("shared/data/crm_erp")
            let shippers = try String(contentsOf: samples.appendingPathComponent("northwind_csv/shippers.csv"), encoding: .utf8)
            let first = try await run("filename=shippers.csv", shippers)
            #expect(summary(first)["created"] as? Int == 3, "\(first)")
            let renamed = try await run("filename=carriers%20(2).csv", shippers)
            #expect(summary(renamed)["unchanged"] as? Int == 3 && summary(renamed)["created"] as? Int == 0, "\(renamed)")
            #expect(try await titles("northwind") == ["Federal Shipping", "Speedy Express", "United Package"])

            // A dry run of a cut-down export with prune: the counts and the deletions, nothing written.
            let cut = shippers.split(separator: "\n").prefix(2).joined(separator: "\n") + "\n"
            let preview = try await run("filename=shippers.csv&prune=true&dry_run=true", cut)
            #expect(preview["status"] as? String == "completed" && summary(preview)["dry_run"] as? Bool == true, "\(preview)")
            #expect(summary(preview)["unchanged"] as? Int == 1 && summary(preview)["deleted"] as? Int == 2)
            #expect(Set(((summary(preview)["deletions"] as? [[String: Any]]) ?? []).compactMap { $0["title"] as? String }) == ["Federal Shipping", "United Package"])
            #expect(summary(preview)["prune_scope"] as? [String] == ["northwind:Shipper"])
            #expect(try await titles("northwind").count == 3)
            // Above its limit the prune stops with nothing written, and says how to go on.
            let stopped = try await run("filename=shippers.csv&prune=true&max_delete=1", cut)
            #expect(stopped["status"] as? String == "failed" && summary(stopped)["deleted"] as? Int == 2, "\(stopped)")
            let message = ((stopped["errors"] as? [[String: Any]])?.first?["message"] as? String) ?? ""
            #expect(message.contains("would delete 2 of the 3 documents") && message.contains("max_delete=2"), "\(message)")
            #expect(try await titles("northwind").count == 3)
            let allowed = try await run("filename=shippers.csv&prune=true&max_delete=2", cut)
            #expect(summary(allowed)["deleted"] as? Int == 2 && summary(allowed)["dry_run"] as? Bool == false, "\(allowed)")
            #expect(try await titles("northwind") == ["Speedy Express"])

            for bad in ["max_delete=-1&prune=true", "max_delete=ten&prune=true", "force=true", "dry_run=yes", "type=a:b", "force=true&max_delete=3&prune=true"] {
                let status = try await api.client.execute(
                    uri: "/api/knowledge/import?filename=x.csv&\(bad)", method: .post, headers: [.authorization: "Bearer \(admin)"],
                    body: ByteBuffer(string: shippers)
                ) { $0.status }
                #expect(status == .badRequest, "\(bad)")
            }
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).isEmpty, "uploads are removed when their jobs end")
        }
    }
}
