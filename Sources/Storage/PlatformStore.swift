public import Foundation

/// The security audit log: appended to, read newest first.
public protocol AuditStore: Sendable {
    func appendAudit(_ entry: AuditEntry) async throws
    func auditEntries(_ query: AuditQuery) async throws -> [AuditEntry]
}

/// Versioned prompt templates, one active version per name.
public protocol PromptStore: Sendable {
    /// Appends a version numbered one above the highest of `name`; with `activate` it becomes the only active one.
    func addPromptVersion(name: String, template: String, createdBy: String?, activate: Bool, at: Date) async throws -> PromptRecord
    /// All versions, by name then newest version first; only those of `name` when given.
    func prompts(name: String?) async throws -> [PromptRecord]
    func prompt(id: String) async throws -> PromptRecord?
    /// Makes this version the active one of its name; `nil` when no such version exists.
    func activatePrompt(id: String) async throws -> PromptRecord?
    func activePrompt(name: String) async throws -> PromptRecord?
}

/// Countable events for the admin analytics.
public protocol AnalyticsStore: Sendable {
    func recordEvents(_ events: [AnalyticsEvent]) async throws
    /// Events with `from <= occurred_at < to`, in id order after `afterID`, at most `limit`.
    /// - Complexity: one indexed range scan per page.
    func analyticsEvents(from: Date, to: Date, kinds: [String]?, afterID: Int64?, limit: Int) async throws -> [AnalyticsEvent]
}

/// The durable mail outbox: a message stays until a transport delivered it.
public protocol OutboxStore: Sendable {
    /// Stores the message and returns its id.
    func enqueueMail(_ message: OutboxMessage) async throws -> Int64
    /// Claims up to `limit` unsent messages due at `now` by moving their next attempt to `leaseUntil`, so another
    /// replica does not send them at the same time, and returns them.
    func claimDueMail(now: Date, leaseUntil: Date, limit: Int) async throws -> [OutboxMessage]
    func markMailSent(id: Int64, at: Date) async throws
    /// Counts a failed attempt and schedules the next.
    func markMailFailed(id: Int64, error: String, nextAttemptAt: Date) async throws
    /// Messages newest first; only the unsent ones with `pendingOnly`.
    func outbox(pendingOnly: Bool, limit: Int) async throws -> [OutboxMessage]
}

/// Conversations and their messages.
public protocol ConversationStore: Sendable {
    func createConversation(_ conversation: ConversationRecord) async throws
    func conversation(id: String) async throws -> ConversationRecord?
    /// A user's conversations, most recently active first, those updated before `before` when given.
    func conversations(userID: String, before: Date?, limit: Int) async throws -> [ConversationRecord]
    /// Appends messages in one transaction and marks the conversation active at `at`.
    func appendMessages(_ messages: [MessageRecord], conversationID: String, at: Date) async throws
    /// The last `limit` messages (before `before` when given), oldest first.
    func messages(conversationID: String, before: Date?, limit: Int) async throws -> [MessageRecord]
    func message(id: String) async throws -> MessageRecord?
    /// Records thumbs up (1), down (-1) or cleared (0); false when there is no such message.
    func setFeedback(messageID: String, feedback: Int) async throws -> Bool
    func deleteConversation(id: String) async throws -> Bool
}

/// Everything Omnifin stores.
public typealias OmnifinStore = KnowledgeStore & AccountStore & AuditStore & PromptStore & AnalyticsStore & OutboxStore & ConversationStore
    & IngestJobStore & BackupStore
