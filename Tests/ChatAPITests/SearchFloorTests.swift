@testable import ChatAPI
import Foundation
import HTTPTypes
import StoreTesting
import Testing

@Suite("Search relevance floor")
struct SearchFloorTests {
    @Test("nonsense finds nothing; a real question and a shared word still do; floor=off lists the nearest")
    func floor() async throws {
        try await APIHarness.withAPI(.sqlite) { api in
            let token = try await ChatFixtures.load(api)
            func hits(_ query: String, _ extra: String = "") async throws -> [String] {
                let found = try await api.request(.get, "/api/knowledge?q=\(query.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)\(extra)", token: token)
                #expect(found.status == .ok, "\(found.body)")
                return ((found.body["hits"] as? [[String: Any]]) ?? []).compactMap { $0["title"] as? String }
            }
            #expect(try await hits("zorblax quuxifier").isEmpty)
            #expect(try await hits("zorblax quuxifier", "&floor=off").count > 0)
            #expect(try await hits("who approves a supplier invoice above 10000 EUR?").first == "Invoice approval policy")
            #expect(try await hits("receipts").first == "Travel expenses")
            #expect(try await api.request(.get, "/api/knowledge?q=x&floor=maybe", token: token).status == .badRequest)
            // The clients' search has the same floor.
            let mcp = try await api.request(
                .post, "/mcp", token: token,
                json: #"{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "search_knowledge", "arguments": {"query": "zorblax quuxifier"}}}"#)
            let results = ((mcp.body["result"] as? [String: Any])?["structuredContent"] as? [String: Any])?["results"] as? [Any]
            #expect(results?.isEmpty == true, "\(mcp.body)")
        }
    }
}
