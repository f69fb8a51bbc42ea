import Chat
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Retrieval
import Storage

/// OpenAI's chat completions, answered by Omnifin's pipeline, so that the clients people already use (Open WebUI,
/// LibreChat, every OpenAI SDK) ask the knowledge bank with the caller's own rights:
/// - `GET /v1/models`: `omnifin` (grounded answers by the configured generator) and `omnifin-search` (the passages
///   that answer, as a list, no generation).
/// - `POST /v1/chat/completions`: the last user message is the question, the earlier ones its conversation (so
///   follow-ups work); the answer is retrieved, generated and claim-checked exactly as `/api/chat/message`. Citations
///   travel in the extra `omnifin` field and, unless `omnifin.sources` is false, as a "Sources" block at the end of
///   the text. `stream: true` answers with `chat.completion.chunk` events and `[DONE]`.
/// Tools, functions, images, audio, logprobs and several choices are refused with a 400 naming the field. Errors have
/// OpenAI's shape (``APIError``). Nothing is stored in the caller's conversations (the client keeps them).
struct OpenAIController {
    let turns: ChatTurns
    let bank: KnowledgeBank
    /// The search's relevance floor (``KnowledgeHit/aboveFloor(_:cosine:)``).
    let floor: Double

    static let answerModel = "omnifin"
    static let searchModel = "omnifin-search"
    /// Fields of OpenAI's request that Omnifin cannot honour: a client sending them would get something it did not ask for.
    static let unsupported: [(field: String, why: String)] = [
        ("tools", "tools (function calling) are not supported: Omnifin answers from its knowledge bank"),
        ("functions", "functions are not supported: Omnifin answers from its knowledge bank"),
        ("tool_choice", "tool_choice is not supported: there are no tools"),
        ("function_call", "function_call is not supported: there are no functions"),
        ("audio", "audio output is not supported; use POST /api/chat/voice"),
        ("prediction", "predicted outputs are not supported"),
    ]

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("models", use: models)
        routes.post("chat/completions", use: completions)
        return routes
    }

    struct Model: Encodable {
        var id: String
        var object = "model"
        var created: Int
        var ownedBy = "omnifin"
        var description: String
    }

    struct ModelList: ResponseEncodable {
        var object = "list"
        var data: [Model]
    }

    func models(request: Request, context: AppRequestContext) async throws -> ModelList {
        _ = try context.caller()
        let created = 1_796_083_200  // 2026-12-01: these models' names are stable
        return ModelList(data: [
            Model(id: Self.answerModel, created: created, description: "grounded answers with citations from the knowledge bank"),
            Model(id: Self.searchModel, created: created, description: "the passages of the knowledge bank that answer, with citations; no generation"),
        ])
    }

    /// A chat completion request, read leniently (clients send many optional fields) and strictly where it matters.
    struct Completion {
        var model: String
        var question: String
        var history: [Answerer.HistoryEntry]
        var stream: Bool
        var includeUsage: Bool
        var sources: Bool
        var promptWords: Int
        /// Where the question is in the request, for errors about it (`messages.3.content`).
        var questionField: String
    }

    /// Reads and checks the body: 400 naming the field for anything Omnifin cannot answer as asked.
    static func read(_ body: Data) throws -> Completion {
        guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            throw APIError.badRequest("the body must be a JSON object: {\"model\": \"omnifin\", \"messages\": [{\"role\": \"user\", \"content\": \"…\"}]}")
        }
        for (field, why) in unsupported where object[field] != nil && !(object[field] is NSNull) {
            if let list = object[field] as? [Any], list.isEmpty { continue }
            throw APIError.badRequest(why, field: field)
        }
        if let logprobs = object["logprobs"], StoredJSON.bool(logprobs) == true { throw APIError.badRequest("logprobs are not supported", field: "logprobs") }
        if object["top_logprobs"] != nil && !(object["top_logprobs"] is NSNull) { throw APIError.badRequest("top_logprobs are not supported", field: "top_logprobs") }
        if let n = object["n"], !(n is NSNull) {
            guard let count = n as? Int, count == 1 else { throw APIError.badRequest("n must be 1: Omnifin gives one grounded answer", field: "n") }
        }
        if let format = object["response_format"] as? [String: Any], let type = format["type"] as? String, type != "text" {
            throw APIError.badRequest("response_format \(type) is not supported; answers are text", field: "response_format")
        }
        guard let model = object["model"] as? String, !model.isEmpty else {
            throw APIError.badRequest("model is required: \(answerModel) or \(searchModel) (GET /v1/models)", field: "model")
        }
        guard model == answerModel || model == searchModel else {
            throw APIError(.notFound, code: "model_not_found", "the model '\(model.prefix(100))' does not exist; use \(answerModel) or \(searchModel)", field: "model")
        }
        guard let messages = object["messages"] as? [Any], !messages.isEmpty else {
            throw APIError.badRequest("messages must be a non-empty list of {role, content}", field: "messages")
        }
        guard messages.count <= 200 else { throw APIError.badRequest("messages holds at most 200 messages", field: "messages") }
        var turns: [(role: String, text: String)] = []
        var words = 0
        for (index, item) in messages.enumerated() {
            guard let message = item as? [String: Any], let role = message["role"] as? String else {
                throw APIError.badRequest("messages[\(index)] must be an object with a role and a content", field: "messages.\(index)")
            }
            guard ["system", "developer", "user", "assistant", "tool", "function"].contains(role) else {
                throw APIError.badRequest("messages[\(index)].role must be system, developer, user or assistant", field: "messages.\(index).role")
            }
            if role == "tool" || role == "function" {
                throw APIError.badRequest("messages[\(index)]: tool results are not supported", field: "messages.\(index).role")
            }
            let text = try content(message["content"], at: index)
            words += text.split(whereSeparator: \.isWhitespace).count
            turns.append((role, text))
        }
        guard let last = turns.last, last.role == "user" else {
            throw APIError.badRequest("the last message must be the user's question", field: "messages.\(turns.count - 1).role")
        }
        guard !last.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw APIError.badRequest("the question (the last user message) is empty", field: "messages.\(turns.count - 1).content")
        }
        // System prompts are the client's own instructions; Omnifin answers by its own prompt and leaves them out.
        let history = turns.dropLast().compactMap { turn -> Answerer.HistoryEntry? in
            switch turn.role {
            case "user": Answerer.HistoryEntry(role: .user, text: turn.text)
            case "assistant": Answerer.HistoryEntry(role: .assistant, text: Self.withoutSources(turn.text))
            default: nil
            }
        }
        let stream = try flag(object["stream"], "stream") ?? false
        let includeUsage = try flag((object["stream_options"] as? [String: Any])?["include_usage"], "stream_options.include_usage") ?? false
        var sources = true
        if let extra = object["omnifin"] {
            guard let options = extra as? [String: Any] else { throw APIError.badRequest("omnifin must be an object: {\"sources\": false}", field: "omnifin") }
            sources = try flag(options["sources"], "omnifin.sources") ?? true
        }
        let questionField = "messages.\(turns.count - 1).content"
        if case .failure(let error) = Result(catching: { () throws(ChatError) -> String in try Answerer.checked(last.text) }) {
            var refusal = ErrorMiddleware<AppRequestContext>.map(error)
            refusal.field = questionField
            throw refusal
        }
        return Completion(
            model: model, question: last.text, history: history, stream: stream, includeUsage: includeUsage, sources: sources, promptWords: words,
            questionField: questionField)
    }

    static func flag(_ value: Any?, _ field: String) throws -> Bool? {
        guard let value, !(value is NSNull) else { return nil }
        guard let flag = StoredJSON.bool(value) else { throw APIError.badRequest("\(field) must be true or false", field: field) }
        return flag
    }

    /// A message's text: a string, or a list of `{"type": "text", "text"}` parts (an image part is refused).
    static func content(_ value: Any?, at index: Int) throws -> String {
        if let text = value as? String { return text }
        if value == nil || value is NSNull { return "" }
        guard let parts = value as? [Any] else {
            throw APIError.badRequest("messages[\(index)].content must be text or a list of text parts", field: "messages.\(index).content")
        }
        var texts: [String] = []
        for (number, item) in parts.enumerated() {
            guard let part = item as? [String: Any], let type = part["type"] as? String else {
                throw APIError.badRequest("messages[\(index)].content[\(number)] must be {\"type\": \"text\", \"text\": …}", field: "messages.\(index).content.\(number)")
            }
            guard type == "text", let text = part["text"] as? String else {
                throw APIError.badRequest(
                    "messages[\(index)].content[\(number)] is \(type.prefix(40)): only text is supported (no images, audio or files)",
                    field: "messages.\(index).content.\(number)")
            }
            texts.append(text)
        }
        return texts.joined(separator: "\n")
    }

    /// An earlier answer without the Sources block this endpoint added, so the history is the answer itself.
    static func withoutSources(_ text: String) -> String {
        guard let range = text.range(of: "\n\nSources:\n", options: .backwards) else { return text }
        return String(text[..<range.lowerBound])
    }

    /// The Sources block: one line per cited document, with the numbers of its cited passages (`[1][3] Per diem`).
    static func sourcesBlock(_ citations: [StoredCitation]) -> String {
        guard !citations.isEmpty else { return "" }
        var order: [String] = []
        var groups: [String: [StoredCitation]] = [:]
        for citation in citations {
            if groups[citation.documentId] == nil { order.append(citation.documentId) }
            groups[citation.documentId, default: []].append(citation)
        }
        return "\n\nSources:\n" + order.map { id in groups[id]!.map { "[\($0.n)]" }.joined() + " " + groups[id]![0].title }.joined(separator: "\n")
    }

    /// What travels beside the text: the citations and how the answer was made.
    struct Extra: Encodable {
        var citations: [StoredCitation]
        var grounded: Bool
        var generator: String
    }

    struct Choice: Encodable {
        struct Message: Encodable {
            var role = "assistant"
            var content: String
        }
        var index = 0
        var message: Message
        var finishReason = "stop"
        var logprobs: String? = nil
    }

    struct Usage: Encodable {
        var promptTokens: Int
        var completionTokens: Int
        var totalTokens: Int
    }

    struct CompletionResponse: ResponseEncodable {
        var id: String
        var object = "chat.completion"
        var created: Int
        var model: String
        var choices: [Choice]
        var usage: Usage
        var omnifin: Extra
    }

    func completions(request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.caller()
        let body = try await request.body.collect(upTo: 1 << 20)
        let completion = try Self.read(Data(body.readableBytesView))
        if completion.model == Self.answerModel && !caller.mayChat {
            throw APIError.forbidden("this API key has the read scope: it may use \(Self.searchModel), not \(Self.answerModel)")
        }
        let id = "chatcmpl-" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let created = Int(Date().timeIntervalSince1970)
        if completion.stream { return stream(completion, caller: caller, id: id, created: created, encoder: context.responseEncoder) }
        let (text, extra) = try await answer(completion, caller: caller) { _ in true }
        let content = text + (completion.sources ? Self.sourcesBlock(extra.citations) : "")
        let words = content.split(whereSeparator: \.isWhitespace).count
        return try CompletionResponse(
            id: id, created: created, model: completion.model, choices: [Choice(message: .init(content: content))],
            usage: Usage(promptTokens: completion.promptWords, completionTokens: words, totalTokens: completion.promptWords + words), omnifin: extra
        ).response(from: request, context: context)
    }

    /// The answer (or, for `omnifin-search`, the passages) and its citations.
    private func answer(_ completion: Completion, caller: AuthenticatedUser, onToken: (String) async -> Bool) async throws -> (String, Extra) {
        if completion.model == Self.searchModel {
            let citations = try await Self.search(bank, completion.question, k: 5, source: nil, floor: floor, rights: caller.rights)
            let text = citations.isEmpty
                ? "Nothing in the knowledge bank matches this question."
                : citations.map { "[\($0.n)] \($0.title): \($0.snippet)" }.joined(separator: "\n\n")
            _ = await onToken(text)
            return (text, Extra(citations: citations, grounded: !citations.isEmpty, generator: "search"))
        }
        let answer = try await turns.answer(completion.question, history: completion.history, caller: caller, client: "openai", onToken: onToken)
        return (answer.text, Extra(citations: answer.citations, grounded: answer.grounded, generator: answer.generator))
    }

    /// The passages of the knowledge bank that answer `query` under `rights`, as citations (best first, one per
    /// document), optionally of one source; below the relevance floor there are none.
    static func search(_ bank: KnowledgeBank, _ query: String, k: Int, source: String?, floor: Double, rights: AccessRights) async throws -> [StoredCitation] {
        let hits = try await bank.search(KnowledgeQuery(query, k: source == nil ? k : min(100, k * 5), perDocument: true), rights: rights)
        return KnowledgeHit.aboveFloor(hits, cosine: floor).filter { source == nil || $0.source == source }.prefix(k).enumerated().map { index, hit in
            StoredCitation(
                n: index + 1, documentId: hit.documentID, title: hit.title, snippet: StoredCitation.snippet(hit.passage), passage: hit.passage, start: hit.start,
                end: hit.end, score: hit.score)
        }
    }

    struct Delta: Encodable {
        var role: String?
        var content: String?
    }

    struct ChunkChoice: Encodable {
        var index = 0
        var delta: Delta
        var finishReason: String?
        var logprobs: String? = nil
    }

    struct Chunk: Encodable {
        var id: String
        var object = "chat.completion.chunk"
        var created: Int
        var model: String
        var choices: [ChunkChoice]
        var usage: Usage?
        var omnifin: Extra?
    }

    /// `data: {chat.completion.chunk}` events: the role, the answer's tokens, the Sources block and the citations with
    /// `finish_reason: stop`, the usage when asked for, then `data: [DONE]`. A failure after the start is an `error`
    /// object in OpenAI's shape, then `[DONE]`.
    private func stream(_ completion: Completion, caller: AuthenticatedUser, id: String, created: Int, encoder: JSONEncoder) -> Response {
        return Response.eventStream { writer in
            func send(_ payload: some Encodable) async throws {
                try await writer.write(ByteBuffer(string: "data: \(String(decoding: try encoder.encode(payload), as: UTF8.self))\n\n"))
            }
            func chunk(_ delta: Delta, finish: String? = nil, extra: Extra? = nil) -> Chunk {
                Chunk(id: id, created: created, model: completion.model, choices: [ChunkChoice(delta: delta, finishReason: finish)], omnifin: extra)
            }
            try await send(chunk(Delta(role: "assistant", content: "")))
            do {
                let (text, extra) = try await answer(completion, caller: caller) { token in
                    (try? await send(chunk(Delta(content: token)))) != nil
                }
                let sources = completion.sources ? Self.sourcesBlock(extra.citations) : ""
                if !sources.isEmpty { try await send(chunk(Delta(content: sources))) }
                try await send(chunk(Delta(), finish: "stop", extra: extra))
                if completion.includeUsage {
                    let words = (text + sources).split(whereSeparator: \.isWhitespace).count
                    try await send(
                        Chunk(
                            id: id, created: created, model: completion.model, choices: [],
                            usage: Usage(promptTokens: completion.promptWords, completionTokens: words, totalTokens: completion.promptWords + words)))
                }
            } catch {
                let apiError: APIError = (error as? APIError) ?? (error as? ChatError).map { ErrorMiddleware<AppRequestContext>.map($0) }
                    ?? APIError(.internalServerError, code: "internal", "the answer failed")
                struct Failure: Encodable {
                    struct Detail: Encodable {
                        var message: String
                        var type: String
                        var code: String
                    }
                    var error: Detail
                }
                try? await send(Failure(error: .init(message: apiError.message, type: apiError.type, code: apiError.code)))
            }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        }
    }
}
