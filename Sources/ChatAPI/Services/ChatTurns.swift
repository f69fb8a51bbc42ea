import Chat
import Foundation
import Storage

/// The HTTP side of a chat turn: ``ChatService`` answers and stores it; this records the analytics event
/// (`chat.message`, the question sealed and keyed for the top lists). JSON, Server-Sent Events and voice all ask
/// through here.
struct ChatTurns: Sendable {
    let chat: ChatService
    let analytics: AnalyticsRecorder
    let sealer: DataSealer

    /// Checks, loads the conversation and retrieves (what can refuse a question, before any answer is sent).
    func start(_ question: String, conversationID: String?, caller: AuthenticatedUser) async throws -> ChatService.PendingTurn {
        try await chat.start(question: question, conversationID: conversationID, userID: caller.user.id, rights: caller.rights)
    }

    /// Answers, stores and records the turn.
    func complete(
        _ pending: ChatService.PendingTurn, caller: AuthenticatedUser, voice: Bool = false, onToken: (String) async -> Bool = { _ in true }
    ) async throws -> ChatService.Turn {
        let turn = try await chat.complete(pending, onToken: onToken)
        await record(question: turn.question, answer: turn.answer, seconds: turn.seconds, caller: caller, voice: voice, client: nil)
        return turn
    }

    /// Answers a question whose conversation the client keeps (`client`: `openai`, `mcp`), stores no turn, and records
    /// the analytics event with the client's name.
    func answer(
        _ question: String, history: [Answerer.HistoryEntry], caller: AuthenticatedUser, client: String, onToken: (String) async -> Bool = { _ in true }
    ) async throws -> Answerer.Answer {
        let result = try await chat.answer(question: question, history: history, rights: caller.rights, onToken: onToken)
        await record(question: result.question, answer: result.answer, seconds: result.seconds, caller: caller, voice: false, client: client)
        return result.answer
    }

    private func record(question: String, answer: Answerer.Answer, seconds: Double, caller: AuthenticatedUser, voice: Bool, client: String?) async {
        struct Event: Encodable, Sendable {
            var latencyMs: Double
            var retrievalMs: Double
            var answered: Bool
            var questionSealed: String?
            var questionKey: String
            var voice: Bool
            var generator: String
            /// The client that asked through its own protocol (`openai`, `mcp`); absent for the web app and the REST API.
            var client: String?
        }
        let copy = sealer.analyticsCopy(question)
        await analytics.record(
            "chat.message", user: caller.user.id,
            data: Event(
                latencyMs: seconds * 1000, retrievalMs: answer.retrievalMilliseconds, answered: answer.grounded,
                questionSealed: copy.sealed, questionKey: copy.key, voice: voice, generator: answer.generator, client: client))
    }
}
