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
        struct Event: Encodable, Sendable {
            var latencyMs: Double
            var retrievalMs: Double
            var answered: Bool
            var questionSealed: String?
            var questionKey: String
            var voice: Bool
            var generator: String
        }
        let copy = sealer.analyticsCopy(turn.question)
        await analytics.record(
            "chat.message", user: caller.user.id,
            data: Event(
                latencyMs: turn.seconds * 1000, retrievalMs: turn.answer.retrievalMilliseconds, answered: turn.answer.grounded,
                questionSealed: copy.sealed, questionKey: copy.key, voice: voice, generator: turn.answer.generator))
        return turn
    }
}
