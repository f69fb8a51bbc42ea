@testable import Chat
@testable import ChatAPI
import Foundation
import FoundationNetworking
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Retrieval
import StoreTesting
import Testing

/// The server with `OMNIFIN_LLM_MODEL`: the llama.cpp engine of `make llm` started with it, the small SmolLM2 model.
@Suite("Chat through the local llama.cpp engine", .serialized)
struct LocalEngineAPITests {
    static func configure(model: String = LocalLLMFiles.model, queue: Int = 8, timeout: Double = 60, fallback: Bool = false)
        -> @Sendable (inout ServerConfiguration) -> Void
    {
        { configuration in
            var engine = LlamaEngine.Configuration(model: model, server: LocalLLMFiles.server, threads: 2, contextTokens: 2_048)
            engine.initialBackoff = .milliseconds(200)
            engine.maxBackoff = .seconds(1)
            configuration.chat.localEngine = engine
            var api = LLMAPIConfiguration(baseURL: "http://127.0.0.1")
            api.timeout = timeout
            api.maxRetries = 1
            configuration.chat.llm = api
            configuration.chat.chatModel = engine.modelName
            configuration.chat.engineQueue = queue
            configuration.chat.answerTokens = 80
            // Few passages: the model reads about 200 tokens a second on two cores.
            configuration.chat.contextTokens = 300
            configuration.chat.fallbackToBuiltin = fallback
        }
    }

    static func waitForEngine(_ api: APIHarness.Context, token: String, state: String = "ready") async throws -> [String: Any] {
        var engine: [String: Any] = [:]
        for _ in 0..<300 {
            let status = try await api.request(.get, "/api/chat/status", token: token)
            engine = status.body["engine"] as? [String: Any] ?? [:]
            if engine["state"] as? String == state { return engine }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the engine never became \(state): \(engine)")
        return engine
    }

    @Test("status and readiness show the engine; a streamed answer arrives token by token and ends with the checked answer")
    func streamed() async throws {
        try await APIHarness.withAPI(.sqlite, live: true, configure: Self.configure()) { api in
            let admin = try await ChatFixtures.load(api)
            let engine = try await Self.waitForEngine(api, token: admin)
            #expect(engine["model"] as? String == "SmolLM2-135M-Instruct.Q4_1.gguf" && engine["context_tokens"] as? Int == 2_048, "\(engine)")
            #expect(engine["restarts"] as? Int == 0 && (engine["queue"] as? [String: Any])?["limit"] as? Int == 8)
            let status = try await api.request(.get, "/api/chat/status", token: admin)
            #expect((status.body["generator"] as? [String: Any])?["name"] as? String == "llm:SmolLM2-135M-Instruct.Q4_1")
            #expect((status.body["generator"] as? [String: Any])?["available"] as? Bool == true)
            let ready = try await api.request(.get, "/readyz")
            #expect(ready.status == .ok && (ready.body["llm"] as? [String: Any])?["status"] as? String == "ready", "\(ready.body)")

            let text = try await api.client.execute(
                uri: "/api/chat/message", method: .post,
                headers: [.authorization: "Bearer \(admin)", .contentType: "application/json", .accept: "text/event-stream"],
                body: ByteBuffer(string: #"{"message": "Who approves invoices above 10,000 EUR?"}"#)
            ) { response in String(buffer: response.body) }
            let events = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            let names = events.compactMap { $0.split(separator: "\n").first.map { String($0.dropFirst("event: ".count)) } }
            #expect(names.first == "meta" && names.suffix(2) == ["citations", "done"] && names.filter { $0 == "token" }.count > 3, "\(names)")
            let done = try #require(events.last.map { String($0.split(separator: "\n")[1].dropFirst("data: ".count)) })
            let final = try #require(try JSONSerialization.jsonObject(with: Data(done.utf8)) as? [String: Any])
            #expect(final["generator"] as? String == "llm:SmolLM2-135M-Instruct.Q4_1" && !(final["answer"] as? String ?? "").isEmpty)
            // The claim check ran; grounded only when a cited sentence survived it.
            let check = try #require(final["claim_check"] as? [String: Int], "\(final)")
            #expect((final["grounded"] as? Bool) == ((check["supported"] ?? 0) > 0))
            #expect(((final["citations"] as? [[String: Any]]) ?? []).isEmpty == !(final["grounded"] as? Bool ?? false))
        }
    }

    @Test("a full queue answers 503 with Retry-After, or the built-in answerer with the fallback")
    func busy() async throws {
        for fallback in [false, true] {
            try await APIHarness.withAPI(.sqlite, live: true, configure: Self.configure(queue: 0, fallback: fallback)) { api in
                let admin = try await ChatFixtures.load(api)
                _ = try await Self.waitForEngine(api, token: admin)
                // On a connection of its own: the test client's one connection answers one request at a time.
                var request = URLRequest(url: URL(string: "http://127.0.0.1:\(try #require(api.client.port))/api/chat/message")!)
                request.httpMethod = "POST"
                request.setValue("Bearer \(admin)", forHTTPHeaderField: "Authorization")
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                request.httpBody = Data(#"{"message": "Who approves invoices above 10,000 EUR?"}"#.utf8)
                let first = Task { [request] in
                    let (_, response) = try await URLSession.shared.data(for: request)
                    return (response as? HTTPURLResponse)?.statusCode ?? 0
                }
                var running = 0
                for _ in 0..<200 where running == 0 {
                    let status = try await api.request(.get, "/api/chat/status", token: admin)
                    running = ((status.body["engine"] as? [String: Any])?["queue"] as? [String: Any])?["running"] as? Int ?? 0
                    if running == 0 { try await Task.sleep(for: .milliseconds(20)) }
                }
                #expect(running == 1)
                let second = try await api.request(.post, "/api/chat/message", token: admin, json: #"{"message": "When are payment runs?"}"#)
                if fallback {
                    #expect(second.status == .ok && second.body["generator"] as? String == "builtin", "\(second.body)")
                } else {
                    #expect(second.status == .serviceUnavailable && (second.body["error"] as? [String: Any])?["code"] as? String == "llm_busy", "\(second.body)")
                    #expect(Int(second.headers[.retryAfter] ?? "") ?? 0 >= 1, "\(second.headers)")
                }
                let firstStatus = try await first.value
                #expect(firstStatus == 200)
            }
        }
    }

    @Test("an engine that cannot load its model keeps restarting: readiness fails, chat says why, or falls back")
    func broken() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-llm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = directory.appendingPathComponent("broken.gguf").path
        try Data("not a model".utf8).write(to: URL(fileURLWithPath: model))
        try await APIHarness.withAPI(.sqlite, live: true, configure: Self.configure(model: model, timeout: 1)) { api in
            let admin = try await ChatFixtures.load(api)
            let engine = try await Self.waitForEngine(api, token: admin, state: "restarting")
            #expect((engine["last_exit"] as? String)?.contains("exited with status") == true, "\(engine)")
            let ready = try await api.request(.get, "/readyz")
            #expect(ready.status == .serviceUnavailable && (ready.body["error"] as? [String: Any])?["code"] as? String == "llm_unavailable")
            let asked = try await api.request(.post, "/api/chat/message", token: admin, json: #"{"message": "Who approves invoices above 10,000 EUR?"}"#)
            #expect(asked.status == .badGateway && ((asked.body["error"] as? [String: Any])?["message"] as? String)?.contains("restarting") == true, "\(asked.body)")
        }
        try await APIHarness.withAPI(.sqlite, live: true, configure: Self.configure(model: model, timeout: 1, fallback: true)) { api in
            let admin = try await ChatFixtures.load(api)
            _ = try await Self.waitForEngine(api, token: admin, state: "restarting")
            let ready = try await api.request(.get, "/readyz")
            #expect(ready.status == .ok && (ready.body["llm"] as? [String: Any])?["status"] as? String == "restarting")
            let asked = try await api.request(.post, "/api/chat/message", token: admin, json: #"{"message": "Who approves invoices above 10,000 EUR?"}"#)
            #expect(asked.status == .ok && asked.body["generator"] as? String == "builtin", "\(asked.body)")
        }
    }
}
