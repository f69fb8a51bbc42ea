public import Foundation
import GRDB

extension SQLiteStore {
    public func users(matching query: UserQuery) async throws -> UserPage {
        let pattern = query.likePattern
        let status = query.status?.rawValue
        let filter = """
            WHERE (? IS NULL OR lower(email) LIKE ? ESCAPE '\\' OR lower(display_name) LIKE ? ESCAPE '\\')
              AND (? IS NULL OR role = ?)
              AND (? IS NULL
                   OR (? = 'active' AND verified_at IS NOT NULL AND disabled_at IS NULL)
                   OR (? = 'unverified' AND verified_at IS NULL AND disabled_at IS NULL)
                   OR (? = 'disabled' AND disabled_at IS NOT NULL))
            """
        let arguments: StatementArguments = [pattern, pattern, pattern, query.role, query.role, status, status, status, status]
        return try await read { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users " + filter, arguments: arguments) ?? 0
            let rows = try SQLiteUserRow.fetchAll(
                db, sql: "SELECT * FROM users " + filter + " ORDER BY email LIMIT ? OFFSET ?",
                arguments: arguments + [query.limit, query.offset])
            return UserPage(users: try rows.map { try $0.record() }, total: total)
        }
    }

    public func deleteUser(id: String) async throws -> Bool {
        try await writeTransaction { db in try SQLiteUserRow.deleteOne(db, key: id) }
    }
}

extension SQLiteStore: AuditStore {
    public func appendAudit(_ entry: AuditEntry) async throws {
        try await writeTransaction { db in
            try db.execute(
                sql: "INSERT INTO audit_log (occurred_at, actor_id, action, target, ip, detail) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [entry.occurredAt, entry.actorID, entry.action, entry.target, entry.ip, entry.detail])
        }
    }

    public func auditEntries(_ query: AuditQuery) async throws -> [AuditEntry] {
        let prefix = query.action.map { $0.hasSuffix(".") ? $0 : nil } ?? nil
        let exact = prefix == nil ? query.action : nil
        return try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, occurred_at, actor_id, action, target, ip, detail FROM audit_log
                    WHERE (? IS NULL OR id < ?) AND (? IS NULL OR actor_id = ?) AND (? IS NULL OR target = ?)
                      AND (? IS NULL OR action = ?) AND (? IS NULL OR substr(action, 1, length(?)) = ?)
                    ORDER BY id DESC LIMIT ?
                    """,
                arguments: [
                    query.before, query.before, query.actorID, query.actorID, query.target, query.target, exact, exact, prefix, prefix, prefix,
                    query.limit,
                ]
            ).map { row in
                AuditEntry(
                    id: row["id"], occurredAt: row["occurred_at"], actorID: row["actor_id"], action: row["action"], target: row["target"],
                    ip: row["ip"], detail: row["detail"])
            }
        }
    }
}

extension SQLiteStore: PromptStore {
    private static func prompt(_ row: Row) -> PromptRecord {
        PromptRecord(
            id: row["id"], name: row["name"], version: row["version"], template: row["template"], active: row["active"],
            createdBy: row["created_by"], createdAt: row["created_at"])
    }

    public func addPromptVersion(name: String, template: String, createdBy: String?, activate: Bool, at: Date) async throws -> PromptRecord {
        try await writeTransaction { db in
            let version = (try Int.fetchOne(db, sql: "SELECT MAX(version) FROM prompts WHERE name = ?", arguments: [name]) ?? 0) + 1
            if activate { try db.execute(sql: "UPDATE prompts SET active = 0 WHERE name = ?", arguments: [name]) }
            let record = PromptRecord(
                id: UUID().uuidString.lowercased(), name: name, version: version, template: template, active: activate, createdBy: createdBy,
                createdAt: at)
            try db.execute(
                sql: "INSERT INTO prompts (id, name, version, template, active, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [record.id, name, version, template, activate, createdBy, at])
            return record
        }
    }

    public func prompts(name: String?) async throws -> [PromptRecord] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM prompts WHERE (? IS NULL OR name = ?) ORDER BY name, version DESC", arguments: [name, name]
            ).map(SQLiteStore.prompt)
        }
    }

    public func prompt(id: String) async throws -> PromptRecord? {
        try await read { db in try Row.fetchOne(db, sql: "SELECT * FROM prompts WHERE id = ?", arguments: [id]).map(SQLiteStore.prompt) }
    }

    public func activatePrompt(id: String) async throws -> PromptRecord? {
        try await writeTransaction { db in
            guard var record = try Row.fetchOne(db, sql: "SELECT * FROM prompts WHERE id = ?", arguments: [id]).map(SQLiteStore.prompt) else {
                return nil
            }
            try db.execute(sql: "UPDATE prompts SET active = (id = ?) WHERE name = ?", arguments: [id, record.name])
            record.active = true
            return record
        }
    }

    public func activePrompt(name: String) async throws -> PromptRecord? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM prompts WHERE name = ? AND active", arguments: [name]).map(SQLiteStore.prompt)
        }
    }
}

extension SQLiteStore: AnalyticsStore {
    public func recordEvents(_ events: [AnalyticsEvent]) async throws {
        guard !events.isEmpty else { return }
        try await writeTransaction { db in
            let statement = try db.cachedStatement(sql: "INSERT INTO analytics_events (kind, user_id, occurred_at, data) VALUES (?, ?, ?, ?)")
            for event in events { try statement.execute(arguments: [event.kind, event.userID, event.occurredAt, event.data]) }
        }
    }

    public func analyticsEvents(from: Date, to: Date, kinds: [String]?, afterID: Int64?, limit: Int) async throws -> [AnalyticsEvent] {
        let kindList = kinds.map { JSONColumn.encode($0) }
        return try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, kind, user_id, occurred_at, data FROM analytics_events
                    WHERE occurred_at >= ? AND occurred_at < ? AND id > ?
                      AND (? IS NULL OR kind IN (SELECT value FROM json_each(?)))
                    ORDER BY id LIMIT ?
                    """,
                arguments: [from, to, afterID ?? 0, kindList, kindList, limit]
            ).map { row in
                AnalyticsEvent(id: row["id"], kind: row["kind"], userID: row["user_id"], occurredAt: row["occurred_at"], data: row["data"])
            }
        }
    }
}

extension SQLiteStore: OutboxStore {
    private static func outboxMessage(_ row: Row) -> OutboxMessage {
        OutboxMessage(
            id: row["id"], kind: row["kind"], recipient: row["recipient"], subject: row["subject"], body: row["body"],
            createdAt: row["created_at"], attempts: row["attempts"], nextAttemptAt: row["next_attempt_at"], lastError: row["last_error"],
            sentAt: row["sent_at"])
    }

    public func enqueueMail(_ message: OutboxMessage) async throws -> Int64 {
        try await writeTransaction { db in
            try db.execute(
                sql: """
                    INSERT INTO outbox (kind, recipient, subject, body, created_at, attempts, next_attempt_at, last_error, sent_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    message.kind, message.recipient, message.subject, message.body, message.createdAt, message.attempts, message.nextAttemptAt,
                    message.lastError, message.sentAt,
                ])
            return db.lastInsertedRowID
        }
    }

    public func claimDueMail(now: Date, leaseUntil: Date, limit: Int) async throws -> [OutboxMessage] {
        try await writeTransaction { db in
            let due = try Row.fetchAll(
                db, sql: "SELECT * FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
                arguments: [now, limit]
            ).map(SQLiteStore.outboxMessage)
            for message in due {
                try db.execute(sql: "UPDATE outbox SET next_attempt_at = ? WHERE id = ?", arguments: [leaseUntil, message.id])
            }
            return due
        }
    }

    public func markMailSent(id: Int64, at: Date) async throws {
        try await writeTransaction { db in
            try db.execute(sql: "UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?", arguments: [at, id])
        }
    }

    public func markMailFailed(id: Int64, error: String, nextAttemptAt: Date) async throws {
        try await writeTransaction { db in
            try db.execute(
                sql: "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?",
                arguments: [error, nextAttemptAt, id])
        }
    }

    public func outbox(pendingOnly: Bool, limit: Int) async throws -> [OutboxMessage] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM outbox WHERE (? = 0 OR sent_at IS NULL) ORDER BY id DESC LIMIT ?", arguments: [pendingOnly, limit]
            ).map(SQLiteStore.outboxMessage)
        }
    }
}

extension SQLiteStore: ConversationStore {
    private static func conversation(_ row: Row) -> ConversationRecord {
        ConversationRecord(id: row["id"], userID: row["user_id"], title: row["title"], createdAt: row["created_at"], updatedAt: row["updated_at"])
    }

    private static func message(_ row: Row) -> MessageRecord {
        let sealed: Data = row["content_sealed"]
        return MessageRecord(
            id: row["id"], conversationID: row["conversation_id"], role: row["role"], contentSealed: [UInt8](sealed), citations: row["citations"],
            timings: row["timings"], generator: row["generator"], answered: row["answered"], feedback: row["feedback"],
            createdAt: row["created_at"])
    }

    public func createConversation(_ conversation: ConversationRecord) async throws {
        try await writeTransaction { db in
            try db.execute(
                sql: "INSERT INTO conversations (id, user_id, title, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [conversation.id, conversation.userID, conversation.title, conversation.createdAt, conversation.updatedAt])
        }
    }

    public func conversation(id: String) async throws -> ConversationRecord? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM conversations WHERE id = ?", arguments: [id]).map(SQLiteStore.conversation)
        }
    }

    public func conversations(userID: String, before: Date?, limit: Int) async throws -> [ConversationRecord] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM conversations WHERE user_id = ? AND (? IS NULL OR updated_at < ?) ORDER BY updated_at DESC, id LIMIT ?",
                arguments: [userID, before, before, limit]
            ).map(SQLiteStore.conversation)
        }
    }

    public func appendMessages(_ messages: [MessageRecord], conversationID: String, at: Date) async throws {
        try await writeTransaction { db in
            for message in messages {
                try db.execute(
                    sql: """
                        INSERT INTO messages (id, conversation_id, role, content_sealed, citations, timings, generator, answered, feedback, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        message.id, conversationID, message.role, Data(message.contentSealed), message.citations, message.timings, message.generator,
                        message.answered, message.feedback, message.createdAt,
                    ])
            }
            try db.execute(sql: "UPDATE conversations SET updated_at = ? WHERE id = ?", arguments: [at, conversationID])
        }
    }

    public func messages(conversationID: String, before: Date?, limit: Int) async throws -> [MessageRecord] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM messages WHERE conversation_id = ? AND (? IS NULL OR created_at < ?)
                    ORDER BY created_at DESC, role ASC LIMIT ?
                    """,
                arguments: [conversationID, before, before, limit]
            ).map(SQLiteStore.message).reversed()
        }
    }

    public func message(id: String) async throws -> MessageRecord? {
        try await read { db in try Row.fetchOne(db, sql: "SELECT * FROM messages WHERE id = ?", arguments: [id]).map(SQLiteStore.message) }
    }

    public func setFeedback(messageID: String, feedback: Int) async throws -> Bool {
        try await writeTransaction { db in
            try db.execute(sql: "UPDATE messages SET feedback = ? WHERE id = ?", arguments: [feedback, messageID])
            return db.changesCount > 0
        }
    }

    public func deleteConversation(id: String) async throws -> Bool {
        try await writeTransaction { db in
            try db.execute(sql: "DELETE FROM conversations WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }
}

extension SQLiteStore: IngestJobStore {
    private static func job(_ row: Row) -> IngestJobRecord {
        IngestJobRecord(
            id: row["id"], source: row["source"], format: row["format"], input: row["input"], status: row["status"], total: row["total"],
            processed: row["processed"], failed: row["failed"], errors: row["errors"], checkpoint: row["checkpoint"], result: row["result"],
            createdBy: row["created_by"], createdAt: row["created_at"], updatedAt: row["updated_at"])
    }

    private static func arguments(_ job: IngestJobRecord) -> StatementArguments {
        [
            job.source, job.format, job.input, job.status, job.total, job.processed, job.failed, job.errors, job.checkpoint, job.result, job.createdBy,
            job.createdAt, job.updatedAt, job.id,
        ]
    }

    public func createIngestJob(_ job: IngestJobRecord) async throws {
        try await writeTransaction { db in
            try db.execute(
                sql: """
                    INSERT INTO ingest_jobs (source, format, input, status, total, processed, failed, errors, checkpoint, result, created_by,
                                             created_at, updated_at, id)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: SQLiteStore.arguments(job))
        }
    }

    public func ingestJob(id: String) async throws -> IngestJobRecord? {
        try await read { db in try Row.fetchOne(db, sql: "SELECT * FROM ingest_jobs WHERE id = ?", arguments: [id]).map(SQLiteStore.job) }
    }

    public func updateIngestJob(_ job: IngestJobRecord) async throws {
        try await writeTransaction { db in
            try db.execute(
                sql: """
                    UPDATE ingest_jobs SET source = ?, format = ?, input = ?, status = ?, total = ?, processed = ?, failed = ?, errors = ?,
                      checkpoint = ?, result = ?, created_by = ?, created_at = ?, updated_at = ?
                    WHERE id = ?
                    """, arguments: SQLiteStore.arguments(job))
        }
    }

    public func unfinishedIngestJob(source: String, input: String) async throws -> IngestJobRecord? {
        try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM ingest_jobs WHERE source = ? AND input = ? AND status <> 'completed' ORDER BY created_at DESC LIMIT 1",
                arguments: [source, input]
            ).map(SQLiteStore.job)
        }
    }

    public func ingestJobs(statuses: [String], limit: Int) async throws -> [IngestJobRecord] {
        guard !statuses.isEmpty else { return [] }
        return try await read { db in
            let marks = Array(repeating: "?", count: statuses.count).joined(separator: ", ")
            return try Row.fetchAll(
                db, sql: "SELECT * FROM ingest_jobs WHERE status IN (\(marks)) ORDER BY created_at LIMIT ?",
                arguments: StatementArguments(statuses.map { $0 as (any DatabaseValueConvertible)? } + [limit])
            ).map(SQLiteStore.job)
        }
    }
}
