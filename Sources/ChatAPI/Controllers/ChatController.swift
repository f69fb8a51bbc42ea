import Chat
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Retrieval
import Storage
import Voice

/// `/api/chat/*`: ask (JSON or Server-Sent Events), history, feedback, status.
package struct ChatController {
    let turns: ChatTurns
    let speechToText: (any SpeechToText)?
    let textToSpeech: (any TextToSpeech)?
    /// Why voice chat is off, when it is.
    let voiceOffReason: String

    package struct MessageRequest: JSONRequestBody {
        var message: String
        var conversationId: String?
        package enum CodingKeys: String, CodingKey, CaseIterable { case message, conversationId }
    }

    struct Timings: Codable, Sendable {
        var retrievalMs: Double
        var generationMs: Double
    }

    struct MessageResponse: ResponseEncodable {
        var conversationId: String
        var messageId: String
        var answer: String
        var citations: [StoredCitation]
        var grounded: Bool
        var generator: String
        var timings: Timings
        /// A language model's answer only: what the claim check did.
        var claimCheck: ClaimCheckView?
    }

    /// What the claim check did to a generated answer.
    struct ClaimCheckView: Encodable {
        var sentences: Int
        var checked: Int
        var removed: Int
        var recited: Int
        var supported: Int

        init(_ result: ClaimCheck.Result) {
            sentences = result.sentences
            checked = result.checked
            removed = result.removed.count
            recited = result.recited
            supported = result.supported
        }
    }

    package struct FeedbackRequest: JSONRequestBody {
        var messageId: String
        /// 1 (thumbs up), -1 (down) or 0 (cleared).
        var value: Int
        var comment: String?
        package enum CodingKeys: String, CodingKey, CaseIterable { case messageId, value, comment }
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
        let pending = try await turns.start(body.message, conversationID: body.conversationId, caller: caller)
        guard request.headers[.accept]?.contains("text/event-stream") == true else {
            return try Self.response(try await turns.complete(pending, caller: caller)).response(from: request, context: context)
        }
        return streamingResponse(pending, caller: caller, encoder: context.responseEncoder)
    }

    static func response(_ turn: ChatService.Turn) -> MessageResponse {
        MessageResponse(
            conversationId: turn.conversationID, messageId: turn.messageID, answer: turn.answer.text, citations: turn.answer.citations,
            grounded: turn.answer.grounded, generator: turn.answer.generator,
            timings: Timings(retrievalMs: turn.answer.retrievalMilliseconds.rounded(), generationMs: turn.answer.generationMilliseconds.rounded()),
            claimCheck: turn.answer.claims.map(ClaimCheckView.init))
    }

    /// `event: meta` (conversation id) → `event: token` … → `event: citations` → `event: done` (the stored turn),
    /// or `event: error`. A client that goes away stops the generation; what was generated is still stored.
    private func streamingResponse(_ pending: ChatService.PendingTurn, caller: AuthenticatedUser, encoder: JSONEncoder) -> Response {
        let turns = turns
        return Response.eventStream { writer in
            func send(_ event: String, _ payload: some Encodable) async throws {
                let data = String(decoding: try encoder.encode(payload), as: UTF8.self)
                try await writer.write(ByteBuffer(string: "event: \(event)\ndata: \(data)\n\n"))
            }
            try await send("meta", ["conversation_id": pending.conversationID])
            let turn: ChatService.Turn
            do {
                turn = try await turns.complete(pending, caller: caller) { token in
                    (try? await send("token", ["text": token])) != nil
                }
            } catch let error as ChatError {
                let apiError = ErrorMiddleware<AppRequestContext>.map(error)
                struct Failure: Encodable {
                    var code: String
                    var message: String
                    var status: Int
                }
                try? await send("error", Failure(code: apiError.code, message: apiError.message, status: apiError.status.code))
                try await writer.finish(nil)
                return
            }
            if turn.answer.cancelled { return }
            try await send("citations", turn.answer.citations)
            try await send("done", Self.response(turn))
            try await writer.finish(nil)
        }
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
        var citations: [StoredCitation]?
        var grounded: Bool?
        var generator: String?
        var feedback: Int?
        var timings: [String: Double]?
        var createdAt: Date

        init(_ message: ChatService.Message) {
            id = message.id
            role = message.role
            content = message.content
            citations = message.citations
            grounded = message.grounded
            generator = message.generator
            feedback = message.feedback
            timings = message.timings
            createdAt = message.createdAt
        }
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
            let (conversation, messages) = try await turns.chat.messages(conversationID: id, userID: caller.user.id, before: before, limit: limit)
            return HistoryResponse(
                conversation: Self.view(conversation), messages: messages.map(MessageView.init),
                next: messages.count == limit ? messages.first?.createdAt : nil)
        }
        let conversations = try await turns.chat.conversations(userID: caller.user.id, before: before, limit: limit)
        return HistoryResponse(conversations: conversations.map(Self.view), next: conversations.count == limit ? conversations.last?.updatedAt : nil)
    }

    static func view(_ conversation: ChatService.Conversation) -> ConversationView {
        ConversationView(id: conversation.id, title: conversation.title, createdAt: conversation.createdAt, updatedAt: conversation.updatedAt)
    }

    func feedback(request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.caller()
        let body = try await request.decodeJSON(as: FeedbackRequest.self, context: context)
        if let comment = body.comment, comment.count > 2_000 { throw APIError.badRequest("comment is at most 2,000 characters", field: "comment") }
        try await turns.chat.setFeedback(messageID: body.messageId, userID: caller.user.id, value: body.value)
        struct Event: Encodable, Sendable {
            var value: Int
            var messageId: String
            var commentSealed: String?
        }
        let sealed = try body.comment.flatMap { $0.isEmpty ? nil : Data(try turns.sealer.seal($0)).base64EncodedString() }
        await turns.analytics.record("chat.feedback", user: caller.user.id, data: Event(value: body.value, messageId: body.messageId, commentSealed: sealed))
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
        /// The llama.cpp engine Omnifin runs (`OMNIFIN_LLM_MODEL`), when it does.
        var engine: Engine?
    }

    struct Engine: Encodable {
        struct Queue: Encodable {
            var running: Int
            var waiting: Int
            var limit: Int
        }
        var model: String
        var state: String
        var contextTokens: Int?
        var threads: Int
        var restarts: Int
        var lastExit: String?
        var queue: Queue?
    }

    func status(request: Request, context: AppRequestContext) async throws -> StatusResponse {
        _ = try context.caller()
        let bank = turns.chat.answerer.bank
        let generator = turns.chat.answerer.generator
        let reachable = await generator.checkReachable()
        let engine = turns.chat.answerer.engine.map { engine in
            let status = engine.status
            let load = turns.chat.answerer.engineLoad
            return Engine(
                model: (status.model as NSString).lastPathComponent, state: status.state.rawValue, contextTokens: status.contextTokens,
                threads: status.threads, restarts: status.restarts, lastExit: status.lastExit,
                queue: load.map { Engine.Queue(running: $0.running, waiting: $0.waiting, limit: $0.limit) })
        }
        let generatorDetail =
            reachable ? nil : engine.map { "the local LLM engine is \($0.state)" + ($0.lastExit.map { " (last run \($0))" } ?? "") } ?? "the LLM API does not answer"
        return StatusResponse(
            index: .init(ready: true, documents: bank.documentCount, passages: bank.passageCount, vectors: bank.vectorCount),
            embedder: .init(name: bank.embedder.modelName, available: bank.modelMismatch == nil, detail: bank.modelMismatch),
            generator: .init(name: generator.name, available: reachable, detail: generatorDetail),
            stt: speechToText.map { .init(name: $0.name, available: true, detail: $0.detail) }
                ?? .init(name: "off", available: false, detail: voiceOffReason),
            tts: textToSpeech.map { .init(name: $0.name, available: true, detail: nil) }
                ?? .init(name: "off", available: false, detail: voiceOffReason),
            engine: engine)
    }
}
