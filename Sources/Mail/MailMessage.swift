public import Foundation

/// One e-mail as the transports send it: plain UTF-8 text to one recipient.
public struct MailMessage: Sendable, Equatable {
    /// The number the sender gave it (the outbox row), for the `Message-ID` and file names.
    public var id: Int64
    public var recipient: String
    public var subject: String
    public var body: String
    public var createdAt: Date

    public init(id: Int64, recipient: String, subject: String, body: String, createdAt: Date) {
        self.id = id
        self.recipient = recipient
        self.subject = subject
        self.body = body
        self.createdAt = createdAt
    }
}
