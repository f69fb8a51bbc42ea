@testable import Chat
import Foundation
import Logging
@testable import Retrieval
import Storage
import StoreTesting
import Testing

/// The engine on the llama-server and the small model of `make llm`.
enum LocalModel {
    static func configuration(context: Int = 2_048, embeddings: Bool = false) -> LlamaEngine.Configuration {
        var configuration = LlamaEngine.Configuration(model: LocalLLMFiles.model, server: LocalLLMFiles.server, threads: 2, contextTokens: context)
        configuration.embeddings = embeddings
        configuration.initialBackoff = .milliseconds(100)
        return configuration
    }

    /// Runs an engine for `body`, stopped afterwards; fails when it does not come up.
    static func withEngine<T>(_ configuration: LlamaEngine.Configuration = configuration(), _ body: (LlamaEngine) async throws -> T) async throws -> T {
        let engine = LlamaEngine(configuration, logger: Logger(label: "test.llama"))
        try engine.checkFiles()
        let running = Task { await engine.run() }
        defer { running.cancel() }
        let ready = await engine.waitUntilReady(timeout: .seconds(60))
        try #require(ready, "llama-server did not start: \(engine.status)")
        let result = try await body(engine)
        running.cancel()
        await running.value
        return result
    }

    /// A number from the engine's Prometheus metrics (`llamacpp:tokens_predicted_total`, …).
    static func metric(_ engine: LlamaEngine, _ name: String) async throws -> Double {
        let (_, data) = try await LlamaEngine.get(engine.baseURL! + "/metrics", apiKey: engine.apiKey, timeout: .seconds(5))
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ").last!) ?? -1
        }
        return -1
    }

    /// Whether the engine's only slot is generating (`GET /slots`).
    static func busy(_ engine: LlamaEngine) async throws -> Bool {
        let (_, data) = try await LlamaEngine.get(engine.baseURL! + "/slots", apiKey: engine.apiKey, timeout: .seconds(5))
        let slots = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] ?? []
        return slots.contains { $0["is_processing"] as? Bool == true }
    }

    static func generator(_ engine: LlamaEngine, maxTokens: Int = 40) -> OpenAIChatGenerator {
        var api = LLMAPIConfiguration(baseURL: "http://127.0.0.1")
        api.timeout = 60
        var generator = OpenAIChatGenerator(configuration: api, model: engine.configuration.modelName, engine: engine)
        generator.temperature = 0
        generator.maxTokens = maxTokens
        return generator
    }
}

@Suite("The local llama.cpp engine, run for real", .serialized)
struct LlamaEngineTests {
    @Test("it starts on a loopback port with a key of its own, reports its window, counts tokens, and streams the same text as a whole answer, in order")
    func streams() async throws {
        try await LocalModel.withEngine { engine in
            #expect(engine.status.state == .ready && engine.status.contextTokens == 2_048 && engine.status.processID != nil)
            #expect(engine.baseURL?.hasPrefix("http://127.0.0.1:") == true)
            let short = try await engine.tokenCount("Who approves invoices?")
            let long = try await engine.tokenCount(String(repeating: "Who approves invoices? ", count: 20))
            #expect(short > 3 && long > 15 * short)
            // Only Omnifin may use it: without the key of this start the engine refuses everything but /health.
            let (refused, _) = try await LlamaEngine.post(engine.baseURL! + "/tokenize", body: Data(#"{"content": "x"}"#.utf8), timeout: .seconds(5))
            let (wrongKey, _) = try await LlamaEngine.get(engine.baseURL! + "/slots", apiKey: "guess", timeout: .seconds(5))
            #expect(refused == 401 && wrongKey == 401)
            #expect(!(try String(contentsOfFile: "/proc/\(engine.status.processID!)/cmdline", encoding: .utf8)).contains(engine.apiKey))
            let generator = LocalModel.generator(engine)
            let prompt = "List the days of the week, one per line."
            var pieces: [String] = []
            for try await token in generator.generate(GenerationRequest(question: prompt, passages: [], prompt: prompt)) { pieces.append(token) }
            #expect(pieces.count > 5, "\(pieces)")
            // The same request without streaming, at temperature 0: the streamed pieces joined in arrival order are it.
            let body = try JSONSerialization.data(withJSONObject: [
                "model": engine.configuration.modelName, "messages": [["role": "user", "content": prompt]], "stream": false, "temperature": 0,
                "max_tokens": 40,
            ])
            let (status, data) = try await LlamaEngine.post(
                engine.baseURL! + "/v1/chat/completions", body: body, apiKey: engine.apiKey, timeout: .seconds(60))
            let whole = ((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["choices"] as? [[String: Any]])?.first
            #expect(status == 200 && (whole?["message"] as? [String: Any])?["content"] as? String == pieces.joined())
        }
    }

    @Test("a reader that stops reading stops the generation in the engine")
    func disconnect() async throws {
        try await LocalModel.withEngine { engine in
            let generator = LocalModel.generator(engine, maxTokens: 1_500)
            let prompt = "Write a very long story about an accountant, with many chapters."
            var received = 0
            for try await _ in generator.generate(GenerationRequest(question: prompt, passages: [], prompt: prompt)) {
                received += 1
                if received == 5 { break }
            }
            var stillBusy = true
            for _ in 0..<50 where stillBusy {
                try await Task.sleep(for: .milliseconds(100))
                stillBusy = try await LocalModel.busy(engine)
            }
            #expect(!stillBusy, "the engine kept generating after the reader left")
            let predicted = try await LocalModel.metric(engine, "llamacpp:tokens_predicted_total")
            #expect(predicted < 500, "\(predicted) tokens predicted for a reader who took 5")
        }
    }

    @Test("a killed engine is started again with a new process, and counts the restart")
    func restart() async throws {
        try await LocalModel.withEngine { engine in
            let first = try #require(engine.status.processID)
            kill(first, SIGKILL)
            var restarted = false
            for _ in 0..<100 where !restarted {
                try await Task.sleep(for: .milliseconds(100))
                restarted = engine.status.restarts == 1 && engine.status.state == .ready
            }
            #expect(restarted, "\(engine.status)")
            #expect(engine.status.processID != first && engine.status.lastExit?.contains("signal 9") == true, "\(engine.status)")
            #expect(try await engine.tokenCount("still there?") > 0)
        }
    }

    @Test("a missing program or model is named before anything starts")
    func missingFiles() {
        var configuration = LocalModel.configuration()
        configuration.server = "/nonexistent/llama-server"
        #expect(throws: EngineError.self) { try LlamaEngine(configuration, logger: Logger(label: "t")).checkFiles() }
        configuration = LocalModel.configuration()
        configuration.model = "/nonexistent/model.gguf"
        do {
            try LlamaEngine(configuration, logger: Logger(label: "t")).checkFiles()
            Issue.record("a missing model passed the check")
        } catch {
            #expect(error.description.contains("/nonexistent/model.gguf") && error.description.contains("OMNIFIN_LLM_MODEL"))
        }
    }

    @Test("embeddings through a second engine with --embeddings and the OpenAI-compatible embedder")
    func embeddings() async throws {
        try await LocalModel.withEngine(LocalModel.configuration(embeddings: true)) { engine in
            let embedder = try OpenAIEmbedder(
                configuration: LLMAPIConfiguration(baseURL: engine.baseURL!, apiKey: engine.apiKey), model: engine.configuration.modelName)
            let vectors = try await embedder.embed([
                "Who approves supplier invoices?", "Invoices are approved by the budget owner.", "The weather in Paris is sunny today.",
            ])
            #expect(vectors.count == 3 && embedder.dimension == 576)
            let norm = vectors[0].reduce(0) { $0 + $1 * $1 }
            #expect(abs(norm - 1) < 1e-3)
            func cosine(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
            #expect(cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]))
        }
    }
}

@Suite("Answers through the local engine", .serialized)
struct LocalEngineAnswerTests {
    static let embedder: Result<BuiltinEmbedder, any Error> = Result { try BuiltinEmbedder(threads: 2) }

    /// A bank with one document far longer than a 512-token window, and the answerer over it with the local engine.
    /// - Parameter passageTokens: the passages the prompt may carry (small: the model reads about 200 tokens a second here).
    static func withAnswerer(
        context: Int = 512, passageTokens: Int = 4_000, fallback: Bool = false, _ body: (Answerer, LlamaEngine) async throws -> Void
    ) async throws {
        try await TestStores.withStore(.sqlite) { store in
            let embedder = try embedder.get()
            let (bank, _) = try await KnowledgeBank.open(store: store, embedder: embedder, chunker: KnowledgeBank.defaultChunker(for: embedder))
            let approvals = (1...40).map { "Rule \($0): invoices of cost centre \($0) are approved by the budget owner of that cost centre within three working days." }
            _ = try await bank.upsert(
                [
                    DocumentInput(
                        title: "Invoice approval policy",
                        body: "Invoices up to 10,000 EUR are approved by the budget owner. Above 10,000 EUR the finance controller approves as well.\n\n"
                            + approvals.joined(separator: " ")),
                    DocumentInput(title: "Payment runs", body: "Payment runs are on Tuesdays and Fridays. The cut-off is 12:00 the working day before."),
                ], rights: .everything)
            var configuration = ChatConfiguration()
            configuration.localEngine = LocalModel.configuration(context: context)
            var api = LLMAPIConfiguration(baseURL: "http://127.0.0.1")
            api.timeout = 60
            api.maxRetries = 1
            configuration.llm = api
            configuration.chatModel = "smollm2"
            configuration.answerTokens = 120
            configuration.contextTokens = passageTokens
            configuration.passages = 8
            configuration.fallbackToBuiltin = fallback
            let answerer = Answerer(bank: bank, prompts: nil, configuration: configuration, logger: Logger(label: "test.answer"))
            let engine = try #require(answerer.engine)
            let running = Task { await engine.run() }
            defer { running.cancel() }
            try #require(await engine.waitUntilReady(timeout: .seconds(60)), "\(engine.status)")
            try await body(answerer, engine)
            running.cancel()
            await running.value
        }
    }

    @Test("a prompt larger than the engine's window is trimmed to fit, never rejected, and the answer is claim-checked")
    func trimmed() async throws {
        try await Self.withAnswerer { answerer, engine in
            let prepared = try await answerer.prepare(question: "Who approves an invoice of 25,000 EUR?", history: [], rights: .everything)
            let tokens = try await engine.tokenCount(prepared.prompt)
            #expect(prepared.relevant && tokens <= 512 - 120 - Answerer.chatTemplateTokens, "\(tokens) tokens")
            #expect(prepared.passages.count >= 1)
            let answer = try await answerer.respond(prepared)
            #expect(answer.generator == "llm:smollm2" && !answer.text.isEmpty && answer.claims != nil, "\(answer.text)")
            // What stays cited is supported: grounded only with a supported sentence.
            #expect(answer.grounded == ((answer.claims?.supported ?? 0) > 0))
        }
    }

    @Test("a follow-up is rewritten by the real model before retrieval")
    func followUp() async throws {
        try await Self.withAnswerer(context: 2_048, passageTokens: 300) { answerer, engine in
            let before = try await LocalModel.metric(engine, "llamacpp:prompt_tokens_total")
            let query = await answerer.standaloneQuery(
                "and who approves above that?",
                history: [.init(role: .user, text: "Who approves invoices up to 10,000 EUR?"), .init(role: .assistant, text: "The budget owner [1].")])
            let after = try await LocalModel.metric(engine, "llamacpp:prompt_tokens_total")
            #expect(after > before, "the rewrite never reached the engine")
            #expect(!query.isEmpty && query.count <= 500)
        }
    }

    @Test("an engine killed during a turn fails the turn as a provider failure, or falls back, and is back for the next")
    func killedMidTurn() async throws {
        for fallback in [false, true] {
            try await Self.withAnswerer(context: 2_048, passageTokens: 300, fallback: fallback) { answerer, engine in
                let prepared = try await answerer.prepare(question: "Who approves an invoice of 25,000 EUR?", history: [], rights: .everything)
                let pid = try #require(engine.status.processID)
                // The first token arrives, then the engine dies under the stream.
                do {
                    let answer = try await answerer.respond(prepared) { _ in
                        kill(pid, SIGKILL)
                        return true
                    }
                    // With the fallback a failure before the first token answers from the built-in answerer; after it,
                    // the turn keeps what was streamed only when the stream ended cleanly, which a killed engine never does.
                    Issue.record("a turn whose engine died answered: \(answer.text) (\(answer.generator))")
                } catch let error as ChatError {
                    #expect(error.code == .generatorFailed, "\(error)")
                }
                #expect(await engine.waitUntilReady(timeout: .seconds(30)))
                // The engine is back (or, while it restarts, the fallback answers).
                let again = try await answerer.respond(prepared)
                #expect(!again.text.isEmpty)
                #expect(engine.status.restarts == 1)
            }
        }
    }
}
