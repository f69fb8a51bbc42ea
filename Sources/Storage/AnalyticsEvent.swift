public import Foundation

/// Something worth counting: a chat turn, a search, a login, a piece of feedback.
public struct AnalyticsEvent: Sendable, Equatable {
    public var id: Int64?
    /// `chat.message`, `chat.unanswered`, `chat.feedback`, `auth.login`, `knowledge.search`, or a client event.
    public var kind: String
    public var userID: String?
    public var occurredAt: Date
    /// A JSON object (latencies, the question when unanswered, the feedback value).
    public var data: String

    public init(id: Int64? = nil, kind: String, userID: String?, occurredAt: Date, data: String = "{}") {
        self.id = id
        self.kind = kind
        self.userID = userID
        self.occurredAt = occurredAt
        self.data = data
    }
}
