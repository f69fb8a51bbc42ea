public import Foundation
public import Retrieval
public import Storage

/// Conversations around the ``Answerer``: a turn loads the asker's conversation, answers with its history, and
/// stores question and answer sealed under the data key; the history and the feedback on answers. A conversation
/// belongs to the user who started it; to anyone else it does not exist.
public struct ChatService: Sendable {
    public let answerer: Answerer
    let conversations: any ConversationStore
    let sealer: DataSealer

    /// A turn whose question is checked, conversation loaded and passages retrieved: what is left is the answer.
    public struct PendingTurn: Sendable {
        public var conversationID: String { conversation.id }
        public var isNewConversation: Bool
        public var prepared: Answerer.Prepared
        let conversation: ConversationRecord
        let started: ContinuousClock.Instant
    }

    /// A stored turn.
    public struct Turn: Sendable {
        public var conversationID: String
        public var isNewConversation: Bool
        public var questionID: String
        public var messageID: String
        public var question: String
        public var answer: Answerer.Answer
        /// From the start of the turn to the answer stored.
        public var seconds: Double
    }

    /// A conversation as its owner sees it.
    public struct Conversation: Sendable, Equatable {
        public var id: String
        public var title: String
        public var createdAt: Date
        public var updatedAt: Date
    }

    /// A message as its owner sees it.
    public struct Message: Sendable {
        public var id: String
        /// `user` or `assistant`.
        public var role: String
        public var content: String
        /// Answers only.
        public var citations: [StoredCitation]?
        public var grounded: Bool?
        public var generator: String?
        public var feedback: Int?
        public var timings: [String: Double]?
        public var createdAt: Date
    }

    public init(answerer: Answerer, conversations: any ConversationStore, sealer: DataSealer) {
        self.answerer = answerer
        self.conversations = conversations
        self.sealer = sealer
    }

    /// Answers `question` in the user's conversation `conversationID` (a new one when `nil`) and stores the turn:
    /// ``start(question:conversationID:userID:rights:)`` then ``complete(_:onToken:)``.
    public func turn(
        question: String, conversationID: String?, userID: String, rights: AccessRights, onToken: (String) async -> Bool = { _ in true }
    ) async throws -> Turn {
        try await complete(try await start(question: question, conversationID: conversationID, userID: userID, rights: rights), onToken: onToken)
    }

    /// Checks the question, loads the user's conversation (or starts one) and retrieves: everything that can refuse
    /// the question happens here, before a streaming answer starts.
    /// - Throws: ``ChatError`` (`invalidQuestion`, `conversationNotFound`), store and knowledge bank errors.
    public func start(question: String, conversationID: String?, userID: String, rights: AccessRights) async throws -> PendingTurn {
        let started = ContinuousClock.now
        let question = try Answerer.checked(question)
        let now = Date()
        var conversation: ConversationRecord
        var isNew = false
        var history: [Answerer.HistoryEntry] = []
        if let conversationID {
            conversation = try await owned(conversationID, userID: userID)
            for message in try await conversations.messages(conversationID: conversation.id, before: nil, limit: answerer.configuration.historyMessages) {
                history.append(.init(role: message.role == "user" ? .user : .assistant, text: (try? sealer.open(message.contentSealed)) ?? ""))
            }
        } else {
            let title = question.count > 80 ? String(question.prefix(77)) + "…" : question
            // The title is the first question's words: sealed like the messages.
            conversation = ConversationRecord(
                id: UUID().uuidString.lowercased(), userID: userID, title: Data(try sealer.seal(title)).base64EncodedString(), createdAt: now, updatedAt: now)
            isNew = true
        }
        let prepared = try await answerer.prepare(question: question, history: history, rights: rights)
        return PendingTurn(isNewConversation: isNew, prepared: prepared, conversation: conversation, started: started)
    }

    /// Answers a started turn through the ``Answerer``'s one loop, handing each token to `onToken` (false once nobody
    /// listens: the answer so far is stored, marked cancelled), and stores question and answer sealed.
    /// - Throws: ``ChatError`` (`generatorFailed`, `generatorTimedOut`), store errors.
    public func complete(_ pending: PendingTurn, onToken: (String) async -> Bool = { _ in true }) async throws -> Turn {
        let answer = try await answerer.respond(pending.prepared, onToken: onToken)
        if pending.isNewConversation { try await conversations.createConversation(pending.conversation) }
        let questionID = UUID().uuidString.lowercased()
        let answerID = UUID().uuidString.lowercased()
        let timings: [String: Double] = [
            "retrieval_ms": answer.retrievalMilliseconds.rounded(), "generation_ms": answer.generationMilliseconds.rounded(),
            "cancelled": answer.cancelled ? 1 : 0,
        ]
        let stored = Date()
        let conversationID = pending.conversationID
        try await conversations.appendMessages(
            [
                MessageRecord(id: questionID, conversationID: conversationID, role: "user", contentSealed: try sealer.seal(pending.prepared.question), createdAt: stored),
                MessageRecord(
                    id: answerID, conversationID: conversationID, role: "assistant", contentSealed: try sealer.seal(answer.text),
                    citations: StoredJSON.encode(answer.citations), timings: StoredJSON.encode(timings), generator: answer.generator,
                    answered: answer.grounded, createdAt: stored.addingTimeInterval(0.001)),
            ], conversationID: conversationID, at: stored)
        return Turn(
            conversationID: conversationID, isNewConversation: pending.isNewConversation, questionID: questionID, messageID: answerID,
            question: pending.prepared.question, answer: answer, seconds: (ContinuousClock.now - pending.started).inSeconds)
    }

    /// Answers a question whose conversation the client keeps (an OpenAI-compatible client sends the whole of it each
    /// time): `history` as given, nothing stored. Same checks, retrieval, generation and claim check as a turn.
    /// - Throws: ``ChatError`` (`invalidQuestion`, `generatorFailed`, `generatorTimedOut`), knowledge bank errors.
    public func answer(
        question: String, history: [Answerer.HistoryEntry], rights: AccessRights, onToken: (String) async -> Bool = { _ in true }
    ) async throws -> (question: String, answer: Answerer.Answer, seconds: Double) {
        let started = ContinuousClock.now
        let prepared = try await answerer.prepare(question: question, history: Array(history.suffix(answerer.configuration.historyMessages)), rights: rights)
        let answer = try await answerer.respond(prepared, onToken: onToken)
        return (prepared.question, answer, (ContinuousClock.now - started).inSeconds)
    }

    /// The user's conversations, most recent first, before `before`.
    public func conversations(userID: String, before: Date?, limit: Int) async throws -> [Conversation] {
        try await conversations.conversations(userID: userID, before: before, limit: limit).map(view)
    }

    /// A conversation of the user's and a page of its messages, oldest first (the newest page first).
    /// - Throws: ``ChatError`` (`conversationNotFound`) when it is not the user's.
    public func messages(conversationID: String, userID: String, before: Date?, limit: Int) async throws -> (Conversation, [Message]) {
        let conversation = try await owned(conversationID, userID: userID)
        let messages = try await conversations.messages(conversationID: conversationID, before: before, limit: limit).map { message in
            Message(
                id: message.id, role: message.role,
                content: (try? sealer.open(message.contentSealed)) ?? "(this message cannot be decrypted with the current data key)",
                citations: message.role == "assistant" ? StoredJSON.decode([StoredCitation].self, from: message.citations) ?? [] : nil,
                grounded: message.answered, generator: message.generator, feedback: message.feedback,
                timings: message.role == "assistant" ? StoredJSON.decode([String: Double].self, from: message.timings) : nil,
                createdAt: message.createdAt)
        }
        return (view(conversation), messages)
    }

    /// Records the user's feedback on one of their answers: 1 (up), -1 (down) or 0 (cleared).
    /// - Throws: ``ChatError`` (`invalidQuestion` for another value, `messageNotFound` when the answer is not in the
    ///   user's conversations).
    public func setFeedback(messageID: String, userID: String, value: Int) async throws {
        guard [-1, 0, 1].contains(value) else { throw ChatError(.invalidQuestion, "value must be 1 (up), -1 (down) or 0 (clear)", field: "value") }
        guard messageID.count <= 100, let message = try await conversations.message(id: messageID), message.role == "assistant",
            let conversation = try await conversations.conversation(id: message.conversationID), conversation.userID == userID
        else {
            throw ChatError(.messageNotFound, "no answer \(messageID) in your conversations")
        }
        _ = try await conversations.setFeedback(messageID: message.id, feedback: value)
    }

    /// The conversation when it is the user's; another user's is as absent as one that does not exist.
    private func owned(_ id: String, userID: String) async throws -> ConversationRecord {
        guard id.count <= 100, let found = try await conversations.conversation(id: id), found.userID == userID else {
            throw ChatError(.conversationNotFound, "no conversation \(id)")
        }
        return found
    }

    private func view(_ conversation: ConversationRecord) -> Conversation {
        let title = Data(base64Encoded: conversation.title).flatMap { try? sealer.open([UInt8]($0)) } ?? "(a conversation)"
        return Conversation(id: conversation.id, title: title, createdAt: conversation.createdAt, updatedAt: conversation.updatedAt)
    }
}
