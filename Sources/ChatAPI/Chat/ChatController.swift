import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Retrieval
import Storage

/// `/api/chat/*`: ask (JSON or Server-Sent Events), history, feedback, status.
struct ChatController {
    let pipeline: ChatPipeline
    let speechToText: (any SpeechToText)?
    let textToSpeech: (any TextToSpeech)?
    /// Why voice chat is off, when it is.
    let voiceOffReason: String

    struct MessageRequest: JSONRequestBody {
        var message: String
        var conversationId: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case message, conversationId }
    }

    struct Timings: Codable, Sendable {
        var retrievalMs: Double
        var generationMs: Double
    }

    struct MessageResponse: ResponseEncodable {
        var conversationId: String
        var messageId: String
        var answer: String
        var citations: [CitationView]
        var grounded: Bool
        var generator: String
        var timings: Timings
    }

    struct FeedbackRequest: JSONRequestBody {
        var messageId: String
        /// 1 (thumbs up), -1 (down) or 0 (cleared).
        var value: Int
        var comment: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case messageId, value, comment }
    }

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("message", use: message)
        routes.get("history", use: history)
        routes.post("feedback", use: feedback)
        routes.get("status", use: status)
        return routes
    }

    func message(request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.caller()
        let body = try await request.decodeJSON(as: MessageRequest.self, context: context)
        let turn = try await pipeline.prepare(question: body.message, conversationID: body.conversationId, caller: caller)
        let wantsStream = request.headers[.accept]?.contains("text/event-stream") == true
        if !wantsStream {
            let (stream, generator) = pipeline.generate(turn)
            var answer = ""
            do {
                for try await token in stream { answer += token }
            } catch let error as GenerationError {
                throw Self.apiError(error)
            }
            let result = try await pipeline.finish(turn, answer: answer, generator: generator.name, caller: caller)
            return try Self.response(result).response(from: request, context: context)
        }
        return streamingResponse(turn, caller: caller, encoder: context.responseEncoder)
    }

    static func response(_ result: ChatTurnResult) -> MessageResponse {
        MessageResponse(
            conversationId: result.conversationID, messageId: result.messageID, answer: result.answer, citations: result.citations,
            grounded: result.grounded, generator: result.generator,
            timings: Timings(retrievalMs: result.retrievalMilliseconds.rounded(), generationMs: result.generationMilliseconds.rounded()))
    }

    static func apiError(_ error: GenerationError) -> APIError {
        switch error.kind {
        case .timedOut: APIError(.gatewayTimeout, code: "llm_timeout", error.description)
        case .providerFailed: APIError(.badGateway, code: "llm_failed", error.description)
        }
    }

    /// `event: meta` (conversation id) → `event: token` … → `event: citations` → `event: done` (the stored turn),
    /// or `event: error`. A client that goes away cancels the generation; what was generated is still stored.
    private func streamingResponse(_ turn: PreparedTurn, caller: AuthenticatedUser, encoder: JSONEncoder) -> Response {
        let pipeline = pipeline
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                func send(_ event: String, _ payload: some Encodable) async throws {
                    let data = String(decoding: try encoder.encode(payload), as: UTF8.self)
                    try await writer.write(ByteBuffer(string: "event: \(event)\ndata: \(data)\n\n"))
                }
                try await send("meta", ["conversation_id": turn.conversation.id])
                let (stream, generator) = pipeline.generate(turn)
                var answer = ""
                var clientGone = false
                do {
                    for try await token in stream {
                        answer += token
                        do {
                            try await send("token", ["text": token])
                        } catch {
                            clientGone = true
                            break
                        }
                    }
                } catch let error as GenerationError {
                    let apiError = Self.apiError(error)
                    struct Failure: Encodable {
                        var code: String
                        var message: String
                        var status: Int
                    }
                    try? await send("error", Failure(code: apiError.code, message: apiError.message, status: apiError.status.code))
                    try await writer.finish(nil)
                    return
                }
                let result = try await pipeline.finish(turn, answer: answer, generator: generator.name, caller: caller, cancelled: clientGone)
                if clientGone { return }
                try await send("citations", result.citations)
                try await send("done", Self.response(result))
                try await writer.finish(nil)
            })
    }

    struct ConversationView: Encodable, Sendable {
        var id: String
        var title: String
        var createdAt: Date
        var updatedAt: Date
    }

    struct MessageView: Encodable, Sendable {
        var id: String
        var role: String
        var content: String
        var citations: [CitationView]?
        var grounded: Bool?
        var generator: String?
        var feedback: Int?
        var timings: [String: Double]?
        var createdAt: Date
    }

    struct HistoryResponse: ResponseEncodable {
        var conversations: [ConversationView]?
        var conversation: ConversationView?
        var messages: [MessageView]?
        /// Pass as `before` for the next (older) page.
        var next: Date?
    }

    /// Without `conversation_id`: the caller's conversations, most recent first. With it: that conversation's
    /// messages, oldest first, the newest page first.
    func history(request: Request, context: AppRequestContext) async throws -> HistoryResponse {
        let caller = try context.caller()
        let query = request.uri.formParameters
        let limit = try QueryParameter.integer(query, "limit", default: 20, range: 1...100)
        let before = try QueryParameter.date(query, "before")
        if let id = query.get("conversation_id"), !id.isEmpty {
            guard id.count <= 100, let conversation = try await pipeline.store.conversation(id: id), conversation.userID == caller.user.id else {
                throw APIError.notFound("no conversation \(id)")
            }
            let messages = try await pipeline.store.messages(conversationID: id, before: before, limit: limit)
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            let views = messages.map { message in
                MessageView(
                    id: message.id, role: message.role, content: (try? pipeline.sealer.open(message.contentSealed)) ?? "(this message cannot be decrypted with the current data key)",
                    citations: message.role == "assistant" ? (try? decoder.decode([CitationView].self, from: Data(message.citations.utf8))) ?? [] : nil,
                    grounded: message.answered, generator: message.generator, feedback: message.feedback,
                    timings: message.role == "assistant" ? try? JSONDecoder().decode([String: Double].self, from: Data(message.timings.utf8)) : nil,
                    createdAt: message.createdAt)
            }
            return HistoryResponse(
                conversation: view(conversation), messages: views, next: messages.count == limit ? messages.first?.createdAt : nil)
        }
        let conversations = try await pipeline.store.conversations(userID: caller.user.id, before: before, limit: limit)
        return HistoryResponse(conversations: conversations.map(view), next: conversations.count == limit ? conversations.last?.updatedAt : nil)
    }

    func view(_ conversation: ConversationRecord) -> ConversationView {
        let title = Data(base64Encoded: conversation.title).flatMap { try? pipeline.sealer.open([UInt8]($0)) } ?? "(a conversation)"
        return ConversationView(id: conversation.id, title: title, createdAt: conversation.createdAt, updatedAt: conversation.updatedAt)
    }

    func feedback(request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.caller()
        let body = try await request.decodeJSON(as: FeedbackRequest.self, context: context)
        guard [-1, 0, 1].contains(body.value) else { throw APIError.badRequest("value must be 1 (up), -1 (down) or 0 (clear)", field: "value") }
        if let comment = body.comment, comment.count > 2_000 { throw APIError.badRequest("comment is at most 2,000 characters", field: "comment") }
        guard body.messageId.count <= 100, let message = try await pipeline.store.message(id: body.messageId), message.role == "assistant",
            let conversation = try await pipeline.store.conversation(id: message.conversationID), conversation.userID == caller.user.id
        else {
            throw APIError.notFound("no answer \(body.messageId) in your conversations")
        }
        _ = try await pipeline.store.setFeedback(messageID: message.id, feedback: body.value)
        struct Event: Encodable, Sendable {
            var value: Int
            var messageId: String
            var commentSealed: String?
        }
        let sealed = try body.comment.flatMap { $0.isEmpty ? nil : Data(try pipeline.sealer.seal($0)).base64EncodedString() }
        await pipeline.analytics.record("chat.feedback", user: caller.user.id, data: Event(value: body.value, messageId: message.id, commentSealed: sealed))
        return Response(status: .noContent)
    }

    struct StatusResponse: ResponseEncodable {
        struct Index: Encodable {
            var ready: Bool
            var documents: Int
            var passages: Int
            var vectors: Int
        }
        struct Component: Encodable {
            var name: String
            var available: Bool
            var detail: String?
        }
        var index: Index
        var embedder: Component
        var generator: Component
        var stt: Component
        var tts: Component
    }

    func status(request: Request, context: AppRequestContext) async throws -> StatusResponse {
        _ = try context.caller()
        let bank = pipeline.bank
        let generator = pipeline.generator
        let reachable = await generator.checkReachable()
        return StatusResponse(
            index: .init(ready: true, documents: bank.documentCount, passages: bank.passageCount, vectors: bank.vectorCount),
            embedder: .init(name: bank.embedder.modelName, available: bank.modelMismatch == nil, detail: bank.modelMismatch),
            generator: .init(name: generator.name, available: reachable, detail: reachable ? nil : "the LLM API does not answer"),
            stt: speechToText.map { .init(name: $0.name, available: true, detail: $0.detail) }
                ?? .init(name: "off", available: false, detail: voiceOffReason),
            tts: textToSpeech.map { .init(name: $0.name, available: true, detail: nil) }
                ?? .init(name: "off", available: false, detail: voiceOffReason))
    }
}
