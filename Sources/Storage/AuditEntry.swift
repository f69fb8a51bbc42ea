public import Foundation

/// One security-relevant event: who did what to whom, from where, with the before/after state.
public struct AuditEntry: Sendable, Equatable {
    /// Assigned by the store; `nil` before the entry is appended.
    public var id: Int64?
    public var occurredAt: Date
    /// The acting user, `nil` for anonymous callers (failed logins) and the system.
    public var actorID: String?
    /// A dotted verb such as `user.update`, `auth.login_failed`, `prompt.activate`.
    public var action: String
    /// What the action touched, e.g. `user:…`, `prompt:answer`.
    public var target: String?
    /// The client address.
    public var ip: String?
    /// A JSON object with the details (`before`, `after`, reasons); never secrets.
    public var detail: String

    public init(id: Int64? = nil, occurredAt: Date, actorID: String?, action: String, target: String?, ip: String?, detail: String = "{}") {
        self.id = id
        self.occurredAt = occurredAt
        self.actorID = actorID
        self.action = action
        self.target = target
        self.ip = ip
        self.detail = detail
    }
}

/// Which audit entries to read: newest first, before an id cursor.
public struct AuditQuery: Sendable, Equatable {
    public var before: Int64?
    public var limit: Int
    public var actorID: String?
    /// An exact action, or a prefix ending in `.` (`user.`).
    public var action: String?
    public var target: String?

    public init(before: Int64? = nil, limit: Int = 100, actorID: String? = nil, action: String? = nil, target: String? = nil) {
        self.before = before
        self.limit = limit
        self.actorID = actorID
        self.action = action
        self.target = target
    }
}
