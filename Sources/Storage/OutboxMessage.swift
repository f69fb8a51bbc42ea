public import Foundation

/// An e-mail waiting in the durable outbox until a transport has delivered it.
public struct OutboxMessage: Sendable, Equatable {
    public var id: Int64?
    /// Why it is sent: `verification`, `account_changed`, ….
    public var kind: String
    public var recipient: String
    public var subject: String
    public var body: String
    public var createdAt: Date
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastError: String?
    public var sentAt: Date?

    public init(
        id: Int64? = nil, kind: String, recipient: String, subject: String, body: String, createdAt: Date, attempts: Int = 0,
        nextAttemptAt: Date, lastError: String? = nil, sentAt: Date? = nil
    ) {
        self.id = id
        self.kind = kind
        self.recipient = recipient
        self.subject = subject
        self.body = body
        self.createdAt = createdAt
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.sentAt = sentAt
    }
}
