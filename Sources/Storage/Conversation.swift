public import Foundation

/// A chat conversation, owned by one user.
public struct ConversationRecord: Sendable, Equatable {
    public var id: String
    public var userID: String
    public var title: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: String, userID: String, title: String, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.userID = userID
        self.title = title
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// One message of a conversation. The text is sealed (encrypted) by the caller before it reaches the store.
public struct MessageRecord: Sendable, Equatable {
    public var id: String
    public var conversationID: String
    /// `user` or `assistant`.
    public var role: String
    public var contentSealed: [UInt8]
    /// JSON array of citations.
    public var citations: String
    /// JSON object of timings in milliseconds.
    public var timings: String
    public var generator: String?
    /// For answers: whether the knowledge bank had one.
    public var answered: Bool?
    /// -1, 0 or +1.
    public var feedback: Int?
    public var createdAt: Date

    public init(
        id: String, conversationID: String, role: String, contentSealed: [UInt8], citations: String = "[]", timings: String = "{}",
        generator: String? = nil, answered: Bool? = nil, feedback: Int? = nil, createdAt: Date
    ) {
        self.id = id
        self.conversationID = conversationID
        self.role = role
        self.contentSealed = contentSealed
        self.citations = citations
        self.timings = timings
        self.generator = generator
        self.answered = answered
        self.feedback = feedback
        self.createdAt = createdAt
    }
}
