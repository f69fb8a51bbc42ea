@testable import Chat
@testable import ChatAPI
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ingest
import Logging
import NIOCore
import Retrieval
import Storage
import StoreTesting
import Synchronization
import Testing

private func errorCode(_ body: [String: Any]) -> String? { (body["error"] as? [String: Any])?["code"] as? String }

/// Knowledge the chat tests ask about.
enum ChatFixtures {
    static let invoices = #"""
        {"title": "Invoice approval policy", "body": "Every supplier invoice is matched against its purchase order before it is approved. Invoices up to 10,000 EUR are approved by the budget owner. Invoices above 10,000 EUR need a second approval by the finance controller, and invoices above 100,000 EUR also need the CFO's approval.\n\nApproved invoices are paid in the next payment run. Payment runs happen every Tuesday and Friday."}
        """#
    static let travel = #"""
        {"title": "Travel expenses", "body": "Employees submit expense reports in the expense tool within 30 days of the trip. Receipts are required for every expense above 25 EUR. The daily meal allowance in Germany is 28 EUR for a full day. Hotel costs are reimbursed up to 150 EUR per night."}
        """#

    /// An admin with the two documents loaded; returns the admin token.
    static func load(_ api: APIHarness.Context) async throws -> String {
        let admin = try await api.signUpAdmin("root@example.com")
        for body in [invoices, travel] {
            let created = try await api.request(.post, "/api/knowledge", token: admin, json: body)
            #expect(created.status == .created, "\(created.body)")
        }
        return admin
    }
}

@Suite("Chat", .serialized)
struct ChatTests {
    @Test("the built-in answerer cites the passage that holds the answer; history, feedback and analytics follow", arguments: StoreKind.allCases)
    func builtinAnswer(kind: StoreKind) async throws {
        try await APIHarness.withAPI(kind) { api in
            let admin = try await ChatFixtures.load(api)
            let asked = try await api.request(.post, "/api/chat/message", token: admin, json: #"{"message": "What is the approval limit for invoices?"}"#)
            #expect(asked.status == .ok, "\(asked.body)")
            let answer = try #require(asked.body["answer"] as? String)
            #expect(asked.body["grounded"] as? Bool == true && asked.body["generator"] as? String == "builtin")
            #expect(answer.contains("10,000 EUR") && answer.contains("[1]"), "\(answer)")
            let citations = try #require(asked.body["citations"] as? [[String: Any]])
            #expect(citations.first?["title"] as? String == "Invoice approval policy" && citations.first?["n"] as? Int == 1)
            #expect((asked.body["timings"] as? [String: Any])?["retrieval_ms"] != nil)
            // Every marker in the answer is a citation that is listed.
            let listed = Set(citations.compactMap { $0["n"] as? Int })
            for match in answer.matches(of: /\[(\d+)\]/) { #expect(listed.contains(Int(match.1)!)) }

            // A follow-up in the same conversation carries the earlier question's terms.
            let conversation = try #require(asked.body["conversation_id"] as? String)
            let followUp = try await api.request(
                .post, "/api/chat/message", token: admin, json: #"{"message": "And who approves it above 100,000 EUR?", "conversation_id": "\#(conversation)"}"#)
            #expect(followUp.body["grounded"] as? Bool == true && (followUp.body["answer"] as? String)?.contains("CFO") == true, "\(followUp.body)")

            // The question and answer are stored sealed, and come back in the history.
            let stored = try await api.store.messages(conversationID: conversation, before: nil, limit: 10)
            #expect(stored.count == 4 && !String(decoding: stored[0].contentSealed, as: UTF8.self).contains("approval"))
            #expect(try await api.store.conversation(id: conversation)?.title.contains("approval") == false)
            let history = try await api.request(.get, "/api/chat/history?conversation_id=\(conversation)", token: admin)
            let messages = try #require(history.body["messages"] as? [[String: Any]])
            #expect(messages.map { $0["role"] as? String } == ["user", "assistant", "user", "assistant"])
            #expect(messages[0]["content"] as? String == "What is the approval limit for invoices?")
            #expect(((messages[1]["citations"] as? [[String: Any]]) ?? []).first?["document_id"] as? String == citations.first?["document_id"] as? String)
            let list = try await api.request(.get, "/api/chat/history", token: admin)
            #expect(((list.body["conversations"] as? [[String: Any]]) ?? []).first?["title"] as? String == "What is the approval limit for invoices?")

            // Feedback on one's own answer; another user sees neither the conversation nor the message.
            let messageID = try #require(asked.body["message_id"] as? String)
            #expect(try await api.request(.post, "/api/chat/feedback", token: admin, json: #"{"message_id": "\#(messageID)", "value": 1}"#).status == .noContent)
            #expect(try await api.request(.post, "/api/chat/feedback", token: admin, json: #"{"message_id": "\#(messageID)", "value": 5}"#).status == .badRequest)
            let other = try await api.signUp("eve@example.com")
            #expect(try await api.request(.post, "/api/chat/feedback", token: other, json: #"{"message_id": "\#(messageID)", "value": -1}"#).status == .notFound)
            #expect(try await api.request(.get, "/api/chat/history?conversation_id=\(conversation)", token: other).status == .notFound)
            let foreign = try await api.request(.post, "/api/chat/message", token: other, json: #"{"message": "hi", "conversation_id": "\#(conversation)"}"#)
            #expect(foreign.status == .notFound)
            #expect(((try await api.request(.get, "/api/chat/history", token: other)).body["conversations"] as? [Any])?.isEmpty == true)

            let report = try await api.request(.get, "/api/admin/analytics?interval=day", token: admin)
            let totals = try #require(report.body["totals"] as? [String: Any])
            #expect(totals["messages"] as? Int == 2 && totals["feedback_up"] as? Int == 1 && totals["answered"] as? Int == 2)
            // The admin is the operator's (not a registration); the user registered.
            #expect(totals["registrations"] as? Int == 1 && totals["knowledge_changes"] as? Int == 2)
            let top = try #require(report.body["top_questions"] as? [[String: Any]])
            #expect(top.contains { $0["text"] as? String == "What is the approval limit for invoices?" && $0["count"] as? Int == 1 })
        }
    }

    @Test("on the demo corpus, answers cite the document that holds the answer")
    func demoCorpus() async throws {
        struct DemoQuestion: Decodable {
            var question: String
            var document: String
        }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let corpus = repository.appendingPathComponent("corpora")
        let questions = try JSONDecoder().decode(
            [DemoQuestion].self, from: Data(contentsOf: repository.appendingPathComponent("Tests/ChatAPITests/Fixtures/demo-questions.json")))
        try await APIHarness.withAPI(.sqlite) { api in
            let admin = try await api.signUpAdmin("root@example.com")
            var titleOfFile: [String: String] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: corpus.path) where name.hasSuffix(".md") && name != "README.md" {
                let document = try MarkdownReader.document(
                    try String(contentsOf: corpus.appendingPathComponent(name), encoding: .utf8), name: name, source: "corpora")
                titleOfFile[name] = document.title
                let body = try JSONSerialization.data(withJSONObject: ["title": document.title, "body": document.body, "external_id": name, "source": "corpora"])
                #expect(try await api.request(.post, "/api/knowledge", token: admin, json: String(decoding: body, as: UTF8.self)).status == .created)
            }
            #expect(titleOfFile.count >= 30)
            var cited = 0
            for item in questions {
                let asked = try await api.request(
                    .post, "/api/chat/message", token: admin,
                    json: String(decoding: try JSONSerialization.data(withJSONObject: ["message": item.question]), as: UTF8.self))
                let titles = ((asked.body["citations"] as? [[String: Any]]) ?? []).compactMap { $0["title"] as? String }
                if asked.body["grounded"] as? Bool == true, titles.contains(titleOfFile[item.document] ?? "?") { cited += 1 }
            }
            // Measured: 28 of 30 (omnifin eval --answers --questions …); the gate leaves room for model noise only.
            #expect(cited >= 26, "only \(cited) of \(questions.count) answers cite the document that holds the answer")
            // On the subject, but what is asked is not in the bank: refused, not answered with the nearest sentences.
            for question in ["how much does the CFO make?", "who is our external auditor?", "how many employees does Northwind have?"] {
                let asked = try await api.request(
                    .post, "/api/chat/message", token: admin,
                    json: String(decoding: try JSONSerialization.data(withJSONObject: ["message": question]), as: UTF8.self))
                #expect(asked.body["grounded"] as? Bool == false, "\(question): \(asked.body["answer"] ?? "")")
            }
        }
    }

    @Test("history pages through conversations and messages with the next cursor")
    func historyPagination() async throws {
        try await APIHarness.withAPI(.sqlite) { api in
            let admin = try await ChatFixtures.load(api)
            var conversation = ""
            for question in ["Who approves invoices?", "When are payment runs?", "What is the meal allowance in Germany?"] {
                let asked = try await api.request(.post, "/api/chat/message", token: admin, json: #"{"message": "\#(question)"}"#)
                conversation = try #require(asked.body["conversation_id"] as? String)
                try await Task.sleep(for: .milliseconds(5))
            }
            let first = try await api.request(.get, "/api/chat/history?limit=2", token: admin)
            let titles = ((first.body["conversations"] as? [[String: Any]]) ?? []).compactMap { $0["title"] as? String }
            #expect(titles == ["What is the meal allowance in Germany?", "When are payment runs?"])
            let next = try #require(first.body["next"] as? String)
            let second = try await api.request(.get, "/api/chat/history?limit=2&before=\(next)", token: admin)
            #expect(((second.body["conversations"] as? [[String: Any]]) ?? []).compactMap { $0["title"] as? String } == ["Who approves invoices?"])
            #expect(second.body["next"] == nil)
            for _ in 0..<2 {
                _ = try await api.request(.post, "/api/chat/message", token: admin, json: #"{"message": "And hotels?", "conversation_id": "\#(conversation)"}"#)
            }
            let newest = try await api.request(.get, "/api/chat/history?conversation_id=\(conversation)&limit=4", token: admin)
            #expect(((newest.body["messages"] as? [[String: Any]]) ?? []).count == 4)
            let cursor = try #require(newest.body["next"] as? String)
            let oldest = try await api.request(.get, "/api/chat/history?conversation_id=\(conversation)&limit=4&before=\(cursor)", token: admin)
            let rest = (oldest.body["messages"] as? [[String: Any]]) ?? []
            #expect(rest.map { $0["content"] as? String }.first == "What is the meal allowance in Germany?" && rest.count == 2)
            #expect(try await api.request(.get, "/api/chat/history?before=yesterday", token: admin).status == .badRequest)
        }
    }

    @Test("a question the knowledge bank cannot answer says so, cites nothing, and lands on the unanswered list")
    func unanswered() async throws {
        try await APIHarness.withAPI(.sqlite) { api in
            let admin = try await ChatFixtures.load(api)
            let asked = try await api.request(.post, "/api/chat/message", token: admin, json: #"{"message": "Which volcano erupted in Iceland last spring?"}"#)
            #expect(asked.status == .ok)
            #expect(asked.body["grounded"] as? Bool == false && (asked.body["citations"] as? [Any])?.isEmpty == true)
            #expect((asked.body["answer"] as? String)?.hasPrefix("The knowledge bank has no answer") == true)
            let report = try await api.request(.get, "/api/admin/analytics", token: admin)
            let questions = try #require(report.body["unanswered_questions"] as? [[String: Any]])
            #expect(questions.first?["question"] as? String == "Which volcano erupted in Iceland last spring?")
            // The question is sealed in the analytics event too.
            let events = try await api.store.analyticsEvents(from: Date() - 60, to: Date() + 60, kinds: ["chat.message"], afterID: nil, limit: 10)
            #expect(events.count == 1 && !events[0].data.contains("volcano"))
            #expect(try await api.request(.post, "/api/chat/message", token: admin, json: #"{"message": "  "}"#).status == .badRequest)
        }
    }

    @Test("Accept: text/event-stream streams meta, tokens in order, citations and done")
    func streaming() async throws {
        try await APIHarness.withAPI(.sqlite) { api in
            let admin = try await ChatFixtures.load(api)
            let text = try await api.client.execute(
                uri: "/api/chat/message", method: .post,
                headers: [.authorization: "Bearer \(admin)", .contentType: "application/json", .accept: "text/event-stream"],
                body: ByteBuffer(string: #"{"message": "How long do I have to submit an expense report?"}"#)
            ) { response in
                #expect(response.headers[.contentType] == "text/event-stream")
                return String(buffer: response.body)
            }
            let events = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            let names = events.compactMap { $0.split(separator: "\n").first.map { String($0.dropFirst("event: ".count)) } }
            #expect(names.first == "meta" && names.suffix(2) == ["citations", "done"] && names.filter { $0 == "token" }.count > 3)
            var streamed = ""
            for event in events where event.hasPrefix("event: token") {
                let data = String(event.split(separator: "\n")[1].dropFirst("data: ".count))
                streamed += (try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: String])?["text"] ?? ""
            }
            let done = try #require(events.last.map { String($0.split(separator: "\n")[1].dropFirst("data: ".count)) })
            let final = try #require(try JSONSerialization.jsonObject(with: Data(done.utf8)) as? [String: Any])
            #expect(final["answer"] as? String == streamed && streamed.contains("30 days"))
        }
    }
}

/// An OpenAI-compatible chat server on loopback whose behaviour each test chooses.
final class FakeLLM: Sendable {
    enum Mode: Sendable {
        case stream([String])
        case status(Int)
        case silent
        /// Tokens forever, one every 20 ms, counting how many went out until the client left.
        case endless
    }

    let mode: Mutex<Mode>
    let requests = Mutex<[Data]>([])

    /// The JSON bodies received so far.
    var received: [[String: Any]] {
        requests.withLock { $0 }.map { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] ?? [:] }
    }
    let endlessSent = Mutex<Int>(0)
    let endlessStopped = Mutex<Bool>(false)

    init(_ mode: Mode) { self.mode = Mutex(mode) }

    func run(_ body: @Sendable (String) async throws -> Void) async throws {
        let router = Router()
        let fake = self
        router.post("v1/chat/completions") { request, context -> Response in
            let data = try await request.body.collect(upTo: 1 << 20)
            let body = Data(data.readableBytesView)
            fake.requests.withLock { $0.append(body) }
            switch fake.mode.withLock({ $0 }) {
            case .status(let code):
                return Response(
                    status: .init(code: code), headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"error": {"message": "upstream exploded"}}"#)))
            case .silent:
                try await Task.sleep(for: .seconds(3))
                return Response(status: .ok)
            case .stream(let tokens):
                return Response(
                    status: .ok, headers: [.contentType: "text/event-stream"],
                    body: ResponseBody { writer in
                        for token in tokens {
                            let chunk = #"{"choices": [{"delta": {"content": \#(String(decoding: try JSONEncoder().encode(token), as: UTF8.self))}}]}"#
                            // Cut events across writes, as real servers and proxies do.
                            let event = "data: \(chunk)\n\n"
                            let middle = event.index(event.startIndex, offsetBy: event.count / 2)
                            try await writer.write(ByteBuffer(string: String(event[..<middle])))
                            try await writer.write(ByteBuffer(string: String(event[middle...])))
                        }
                        try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                        try await writer.finish(nil)
                    })
            case .endless:
                return Response(
                    status: .ok, headers: [.contentType: "text/event-stream"],
                    body: ResponseBody { writer in
                        do {
                            while true {
                                try await writer.write(ByteBuffer(string: #"data: {"choices": [{"delta": {"content": "x "}}]}"# + "\n\n"))
                                fake.endlessSent.withLock { $0 += 1 }
                                try await Task.sleep(for: .milliseconds(20))
                            }
                        } catch {
                            fake.endlessStopped.withLock { $0 = true }
                            throw error
                        }
                    })
            }
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            try await body("http://127.0.0.1:\(client.port!)")
        }
    }

    func configure(_ baseURL: String, timeout: Double = 2, fallback: Bool = false) -> @Sendable (inout ServerConfiguration) -> Void {
        { configuration in
            var api = LLMAPIConfiguration(baseURL: baseURL)
            api.timeout = timeout
            api.maxRetries = 2
            api.initialBackoff = 0.05
            configuration.chat.llm = api
            configuration.chat.chatModel = "test-model"
            configuration.chat.fallbackToBuiltin = fallback
        }
    }
}

@Suite("Chat with an OpenAI-compatible LLM API", .serialized)
struct LLMChatTests {
    @Test("the request carries the template and the passages; streamed tokens arrive in order; bad markers are dropped")
    func streamedAnswer() async throws {
        let fake = FakeLLM(.stream(["The budget owner approves ", "invoices up to 10,000 EUR [1]", ", the moon approves the rest [7]."]))
        try await fake.run { base in
            try await APIHarness.withAPI(.sqlite, configure: fake.configure(base)) { api in
                let admin = try await ChatFixtures.load(api)
                let asked = try await api.request(.post, "/api/chat/message", token: admin, json: #"{"message": "What is the approval limit for invoices?"}"#)
                #expect(asked.status == .ok, "\(asked.body)")
                #expect(asked.body["answer"] as? String == "The budget owner approves invoices up to 10,000 EUR [1], the moon approves the rest.")
                #expect(asked.body["generator"] as? String == "llm:test-model" && asked.body["grounded"] as? Bool == true)
                #expect(((asked.body["citations"] as? [[String: Any]]) ?? []).map { $0["n"] as? Int } == [1])
                let sent = try #require(fake.received.first)
                #expect(sent["model"] as? String == "test-model" && sent["stream"] as? Bool == true)
                let prompt = try #require(((sent["messages"] as? [[String: Any]])?.first)?["content"] as? String)
                #expect(prompt.contains("You are Omnifin") && prompt.contains("[1] Invoice approval policy") && prompt.contains("Question: What is the approval limit for invoices?"))
            }
        }
    }

    @Test("a model's answer its sources do not support is withheld, or answered by the built-in answerer with the fallback")
    func unsupportedAnswer() async throws {
        // Cited, but neither passage says it; the number is in neither.
        let fake = FakeLLM(.stream(["Invoices are approved by the moon ", "within 45 minutes [1]."]))
        try await fake.run { base in
            try await APIHarness.withAPI(.sqlite, configure: fake.configure(base)) { api in
                let admin = try await ChatFixtures.load(api)
                let asked = try await api.request(.post, "/api/chat/message", token: admin, json: #"{"message": "Who approves invoices?"}"#)
                #expect(asked.status == .ok && asked.body["answer"] as? String == Answerer.unsupported, "\(asked.body)")
                #expect(asked.body["grounded"] as? Bool == false && (asked.body["citations"] as? [Any])?.isEmpty == true)
                #expect(asked.body["claim_check"] as? [String: Int] == ["sentences": 1, "checked": 1, "removed": 1, "recited": 0, "supported": 0])
            }
            try await APIHarness.withAPI(.sqlite, configure: fake.configure(base, fallback: true)) { api in
                let admin = try await ChatFixtures.load(api)
                let asked = try await api.request(.post, "/api/chat/message", token: admin, json: #"{"message": "Who approves invoices up to 10,000 EUR?"}"#)
                #expect(asked.status == .ok && asked.body["generator"] as? String == "builtin" && asked.body["grounded"] as? Bool == true, "\(asked.body)")
                #expect((asked.body["answer"] as? String)?.contains("budget owner") == true)
                #expect((asked.body["claim_check"] as? [String: Int])?["removed"] == 1)
            }
        }
    }

    @Test("provider errors become 502 after retries, silence becomes 504, and the built-in fallback answers when configured")
    func failures() async throws {
        let fake = FakeLLM(.status(500))
        try await fake.run { base in
            try await APIHarness.withAPI(.sqlite, configure: fake.configure(base, timeout: 0.5)) { api in
                let admin = try await ChatFixtures.load(api)
                let failed = try await api.request(.post, "/api/chat/message", token: admin, json: #"{"message": "What is the approval limit for invoices?"}"#)
                #expect(failed.status == .badGateway && errorCode(failed.body) == "llm_failed")
                #expect(fake.requests.withLock { $0.count } == 3)
                fake.mode.withLock { $0 = .status(401) }
                let refused = try await api.request(.post, "/api/chat/message", token: admin, json: #"{"message": "What is the approval limit for invoices?"}"#)
                #expect(refused.status == .badGateway && ((refused.body["error"] as? [String: Any])?["message"] as? String)?.contains("OMNIFIN_LLM_API_KEY") == true)
                fake.mode.withLock { $0 = .silent }
                let started = ContinuousClock.now
                let slow = try await api.request(.post, "/api/chat/message", token: admin, json: #"{"message": "What is the approval limit for invoices?"}"#)
                #expect(slow.status == .gatewayTimeout && errorCode(slow.body) == "llm_timeout")
                #expect(ContinuousClock.now - started < .seconds(10))
            }
            fake.mode.withLock { $0 = .status(503) }
            try await APIHarness.withAPI(.sqlite, configure: fake.configure(base, timeout: 0.5, fallback: true)) { api in
                let admin = try await ChatFixtures.load(api)
                let asked = try await api.request(.post, "/api/chat/message", token: admin, json: #"{"message": "What is the approval limit for invoices?"}"#)
                #expect(asked.status == .ok && (asked.body["answer"] as? String)?.contains("10,000 EUR") == true, "\(asked.body)")
                #expect(asked.body["generator"] as? String == "builtin" && asked.body["grounded"] as? Bool == true)
            }
        }
    }

    @Test("a consumer that stops reading stops the upstream stream")
    func cancellation() async throws {
        let fake = FakeLLM(.endless)
        try await fake.run { base in
            var api = LLMAPIConfiguration(baseURL: base)
            api.timeout = 2
            let generator = OpenAIChatGenerator(configuration: api, model: "test-model")
            var received = 0
            for try await _ in generator.generate(GenerationRequest(question: "q", passages: [], prompt: "p")) {
                received += 1
                if received == 3 { break }
            }
            for _ in 0..<100 where !fake.endlessStopped.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(20)) }
            #expect(fake.endlessStopped.withLock { $0 })
            let sent = fake.endlessSent.withLock { $0 }
            try await Task.sleep(for: .milliseconds(200))
            #expect(fake.endlessSent.withLock { $0 } == sent)
        }
    }
}
