@testable import ChatAPI
import Chat
import Foundation
import HTTPTypes
import Storage
import StoreTesting
import Testing

/// Personal API keys, the OpenAI-compatible endpoint and the MCP server at the HTTP level, on both stores (the
/// official Python clients drive them end to end in Tests/Browser/test_clients.py).
@Suite("Client protocols: API keys, /v1, /mcp", .serialized)
struct ClientProtocolTests {
    @Test("an API key is stored hashed, opens /v1 and /mcp only, and stops at once when revoked", arguments: StoreKind.allCases)
    func apiKeys(kind: StoreKind) async throws {
        try await APIHarness.withAPI(kind) { api in
            let session = try await api.signUpAdmin("ada@example.com")
            let created = try await api.request(.post, "/api/auth/api-keys", token: session, json: #"{"name": "Open WebUI", "scope": "read"}"#)
            #expect(created.status == .created, "\(created.body)")
            let key = try #require(created.body["key"] as? String)
            let id = try #require(created.body["id"] as? String)
            #expect(key.hasPrefix("omk_") && created.body["scope"] as? String == "read")
            // Only the hash is stored.
            let owner = try #require(try await api.store.user(email: "ada@example.com"))
            let stored = try #require(try await api.store.apiKeys(userID: owner.id).first)
            #expect(stored.tokenHash != key && !stored.tokenHash.contains(key.dropFirst(4)) && stored.keyID == id && stored.name == "Open WebUI")

            #expect(try await api.request(.get, "/v1/models", token: key).status == .ok)
            #expect(try await api.request(.post, "/mcp", token: key, json: #"{"jsonrpc": "2.0", "id": 1, "method": "ping"}"#).status == .ok)
            for path in ["/api/auth/profile", "/api/auth/api-keys", "/api/knowledge", "/api/admin/users"] {
                #expect(try await api.request(.get, path, token: key).status == .unauthorized, "\(path)")
            }
            // A read key may not ask.
            let ask = try await api.request(.post, "/v1/chat/completions", token: key, json: #"{"model": "omnifin", "messages": [{"role": "user", "content": "approval limit?"}]}"#)
            #expect(ask.status == .forbidden && (ask.body["error"] as? [String: Any])?["type"] as? String == "permission_error")

            #expect(try await api.request(.delete, "/api/auth/api-keys/\(id)", token: session).status == .noContent)
            #expect(try await api.request(.delete, "/api/auth/api-keys/\(id)", token: session).status == .notFound)
            let refused = try await api.request(.get, "/v1/models", token: key)
            #expect(refused.status == .unauthorized && refused.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            let listed = try await api.request(.get, "/api/auth/api-keys", token: session)
            #expect(((listed.body["keys"] as? [[String: Any]]) ?? []).map { $0["status"] as? String } == ["revoked"])
        }
    }

    @Test("chat completions: an answer with citations and a Sources block; unsupported fields are 400s naming the field")
    func completions() async throws {
        try await APIHarness.withAPI(.sqlite) { api in
            let token = try await ChatFixtures.load(api)
            let answer = try await api.request(
                .post, "/v1/chat/completions", token: token,
                json: #"{"model": "omnifin", "messages": [{"role": "user", "content": "What is the approval limit for invoices?"}], "temperature": 0.2}"#)
            #expect(answer.status == .ok, "\(answer.body)")
            let content = ((answer.body["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String ?? ""
            let citations = (answer.body["omnifin"] as? [String: Any])?["citations"] as? [[String: Any]] ?? []
            #expect(!citations.isEmpty && content.contains("\n\nSources:\n[1]"), "\(content)")
            let cases: [(String, String)] = [
                (#"{"model": "omnifin", "messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]}"#, "tools"),
                (#"{"model": "omnifin", "messages": [{"role": "user", "content": "x"}], "n": 2}"#, "n"),
                (#"{"model": "omnifin", "messages": [{"role": "user", "content": "x"}], "logprobs": true}"#, "logprobs"),
                (#"{"model": "omnifin", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}"#, "messages.0.content.0"),
                (#"{"model": "omnifin", "messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]}"#, "messages.1.role"),
                (#"{"model": "omnifin", "messages": []}"#, "messages"),
                (#"{"model": "omnifin", "messages": [{"role": "user", "content": "x"}], "stream": "yes"}"#, "stream"),
                (#"{"messages": [{"role": "user", "content": "x"}]}"#, "model"),
                (#"{"model": "omnifin", "messages": [{"role": "tool", "content": "x", "tool_call_id": "1"}, {"role": "user", "content": "x"}]}"#, "messages.0.role"),
                (#"{"model": "omnifin", "messages": [{"role": "system", "content": "x"}, {"role": "user", "content": "\#(String(repeating: "word ", count: 1000))"}]}"#, "messages.1.content"),
            ]
            for (body, field) in cases {
                let refused = try await api.request(.post, "/v1/chat/completions", token: token, json: body)
                let error = refused.body["error"] as? [String: Any] ?? [:]
                #expect(refused.status == .badRequest && error["param"] as? String == field && error["type"] as? String == "invalid_request_error", "\(body): \(refused.body)")
            }
        }
    }

    @Test("MCP: one JSON-RPC message per request, protocol errors as JSON-RPC errors, foreign origins refused")
    func mcpProtocol() async throws {
        try await APIHarness.withAPI(.sqlite) { api in
            let token = try await api.signUpAdmin("ada@example.com")
            func rpc(_ json: String, headers: HTTPFields = [:]) async throws -> (HTTPResponse.Status, [String: Any]) {
                let reply = try await api.request(.post, "/mcp", token: token, json: json, headers: headers)
                return (reply.status, reply.body)
            }
            let (status, initialized) = try await rpc(
                #"{"jsonrpc": "2.0", "id": "a", "method": "initialize", "params": {"protocolVersion": "2099-01-01", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}"#)
            #expect(status == .ok && initialized["id"] as? String == "a")
            #expect((initialized["result"] as? [String: Any])?["protocolVersion"] as? String == "2025-06-18", "an unknown version is answered with ours")
            #expect(try await rpc(#"{"jsonrpc": "2.0", "method": "notifications/initialized"}"#).0 == .accepted)
            let unknown = try await rpc(#"{"jsonrpc": "2.0", "id": 2, "method": "resources/list"}"#)
            #expect((unknown.1["error"] as? [String: Any])?["code"] as? Int == -32601)
            let batch = try await rpc(#"[{"jsonrpc": "2.0", "id": 3, "method": "ping"}]"#)
            #expect(batch.0 == .badRequest && (batch.1["error"] as? [String: Any])?["code"] as? Int == -32600)
            #expect(try await rpc("{not json").0 == .badRequest)
            let badArgument = try await rpc(#"{"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "search_knowledge", "arguments": {"query": "x", "k": 500}}}"#)
            #expect((badArgument.1["error"] as? [String: Any])?["code"] as? Int == -32602)
            let missing = try await rpc(#"{"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "get_document", "arguments": {"id": "no-such-document"}}}"#)
            #expect((missing.1["result"] as? [String: Any])?["isError"] as? Bool == true)
            #expect(try await rpc(#"{"jsonrpc": "2.0", "id": 6, "method": "ping"}"#, headers: [.origin: "https://evil.example"]).0 == .forbidden)
            #expect(try await rpc(#"{"jsonrpc": "2.0", "id": 7, "method": "ping"}"#, headers: [HTTPField.Name("MCP-Protocol-Version")!: "1999-01-01"]).0 == .badRequest)
            #expect(try await api.request(.get, "/mcp", token: token).status == .methodNotAllowed)
            #expect(try await api.request(.post, "/mcp", json: #"{"jsonrpc": "2.0", "id": 1, "method": "ping"}"#).status == .unauthorized)
        }
    }

    @Test("the Sources block names each document once, with the numbers of its cited passages")
    func sourcesBlock() {
        func cite(_ n: Int, _ id: String, _ title: String) -> StoredCitation {
            StoredCitation(n: n, documentId: id, title: title, snippet: "", passage: "", start: 0, end: 0, score: 1)
        }
        let block = OpenAIController.sourcesBlock([cite(1, "a", "Per diem and mileage rates"), cite(2, "b", "Expense policy"), cite(3, "a", "Per diem and mileage rates")])
        #expect(block == "\n\nSources:\n[1][3] Per diem and mileage rates\n[2] Expense policy")
        #expect(OpenAIController.sourcesBlock([]) == "")
        #expect(OpenAIController.withoutSources("The answer [1].\n\nSources:\n[1] A") == "The answer [1].")
    }
}
