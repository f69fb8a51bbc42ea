public import Foundation
import NIOCore
import PostgresNIO

extension PostgresStore {
    /// Runs a statement, turning failures into ``StoreError``s.
    func execute(_ statement: PostgresQuery, operation: String = #function) async throws {
        do {
            _ = try await query(statement, operation: operation)
        } catch {
            throw PostgresStore.storeError(error)
        }
    }

    /// Runs a query and maps each decoded row.
    func rows<T>(_ statement: PostgresQuery, operation: String = #function, _ map: (PostgresRow) throws -> T) async throws -> [T] {
        do {
            var result: [T] = []
            for try await row in try await query(statement, operation: operation) { result.append(try map(row)) }
            return result
        } catch {
            throw PostgresStore.storeError(error)
        }
    }

    public func users(matching query: UserQuery) async throws -> UserPage {
        let pattern = query.likePattern
        let status = query.status?.rawValue
        let role = query.role
        var users: [UserRecord] = []
        var total = 0
        let rows = try await rows(
            """
            SELECT id, email, display_name, password_hash, role, groups, verified_at, disabled_at, created_at, updated_at,
                   COUNT(*) OVER ()
            FROM users
            WHERE (\(pattern)::text IS NULL OR lower(email) LIKE \(pattern) ESCAPE '\\' OR lower(display_name) LIKE \(pattern) ESCAPE '\\')
              AND (\(role)::text IS NULL OR role = \(role))
              AND (\(status)::text IS NULL
                   OR (\(status) = 'active' AND verified_at IS NOT NULL AND disabled_at IS NULL)
                   OR (\(status) = 'unverified' AND verified_at IS NULL AND disabled_at IS NULL)
                   OR (\(status) = 'disabled' AND disabled_at IS NOT NULL))
            ORDER BY email LIMIT \(query.limit) OFFSET \(query.offset)
            """
        ) { row in
            let c = try row.decode((String, String, String, String, String, String, Date?, Date?, Date, Date, Int).self)
            return
            (
                UserRecord(
                    id: c.0, email: c.1, displayName: c.2, passwordHash: c.3, role: c.4,
                    groups: try JSONColumn.decode([String].self, c.5, column: "users.groups"), verifiedAt: c.6, disabledAt: c.7, createdAt: c.8,
                    updatedAt: c.9), c.10
            )
        }
        for (user, count) in rows {
            users.append(user)
            total = count
        }
        if users.isEmpty && query.offset > 0 {
            // The window count is absent when the page is past the end; count separately.
            total = try await self.rows(
                """
                SELECT COUNT(*) FROM users
                WHERE (\(pattern)::text IS NULL OR lower(email) LIKE \(pattern) ESCAPE '\\' OR lower(display_name) LIKE \(pattern) ESCAPE '\\')
                  AND (\(role)::text IS NULL OR role = \(role))
                  AND (\(status)::text IS NULL
                       OR (\(status) = 'active' AND verified_at IS NOT NULL AND disabled_at IS NULL)
                       OR (\(status) = 'unverified' AND verified_at IS NULL AND disabled_at IS NULL)
                       OR (\(status) = 'disabled' AND disabled_at IS NOT NULL))
                """
            ) { try $0.decode(Int.self) }.first ?? 0
        }
        return UserPage(users: users, total: total)
    }

    public func deleteUser(id: String) async throws -> Bool {
        try await !rows("DELETE FROM users WHERE id = \(id) RETURNING id") { try $0.decode(String.self) }.isEmpty
    }
}

extension PostgresStore: AuditStore {
    public func appendAudit(_ entry: AuditEntry) async throws {
        try await execute(
            """
            INSERT INTO audit_log (occurred_at, actor_id, action, target, ip, detail)
            VALUES (\(entry.occurredAt), \(entry.actorID), \(entry.action), \(entry.target), \(entry.ip), \(entry.detail))
            """)
    }

    public func auditEntries(_ query: AuditQuery) async throws -> [AuditEntry] {
        let prefix = query.action.map { $0.hasSuffix(".") ? $0 : nil } ?? nil
        let exact = prefix == nil ? query.action : nil
        return try await rows(
            """
            SELECT id, occurred_at, actor_id, action, target, ip, detail FROM audit_log
            WHERE (\(query.before)::bigint IS NULL OR id < \(query.before)) AND (\(query.actorID)::text IS NULL OR actor_id = \(query.actorID))
              AND (\(query.target)::text IS NULL OR target = \(query.target)) AND (\(exact)::text IS NULL OR action = \(exact))
              AND (\(prefix)::text IS NULL OR left(action, length(\(prefix))) = \(prefix))
            ORDER BY id DESC LIMIT \(query.limit)
            """
        ) { row in
            let c = try row.decode((Int64, Date, String?, String, String?, String?, String).self)
            return AuditEntry(id: c.0, occurredAt: c.1, actorID: c.2, action: c.3, target: c.4, ip: c.5, detail: c.6) }
    }
}

extension PostgresStore: PromptStore {
    private typealias PromptColumns = (String, String, Int, String, Bool, String?, Date)
    private static func prompt(_ c: PromptColumns) -> PromptRecord {
        PromptRecord(id: c.0, name: c.1, version: c.2, template: c.3, active: c.4, createdBy: c.5, createdAt: c.6)
    }

    public func addPromptVersion(name: String, template: String, createdBy: String?, activate: Bool, at: Date) async throws -> PromptRecord {
        let logger = logger
        return try await transaction { connection in
            // Serialises version numbering per name across replicas.
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(name)))", logger: logger)
            var version = 1
            for try await highest in try await connection.query("SELECT MAX(version) FROM prompts WHERE name = \(name)", logger: logger)
                .decode(Int?.self)
            {
                version = (highest ?? 0) + 1
            }
            if activate { try await connection.query("UPDATE prompts SET active = FALSE WHERE name = \(name)", logger: logger) }
            let record = PromptRecord(
                id: UUID().uuidString.lowercased(), name: name, version: version, template: template, active: activate, createdBy: createdBy,
                createdAt: at)
            try await connection.query(
                """
                INSERT INTO prompts (id, name, version, template, active, created_by, created_at)
                VALUES (\(record.id), \(name), \(version), \(template), \(activate), \(createdBy), \(at))
                """, logger: logger)
            return record
        }
    }

    public func prompts(name: String?) async throws -> [PromptRecord] {
        try await rows(
            """
            SELECT id, name, version, template, active, created_by, created_at FROM prompts
            WHERE (\(name)::text IS NULL OR name = \(name)) ORDER BY name, version DESC
            """) { PostgresStore.prompt(try $0.decode(PromptColumns.self)) }
    }

    public func prompt(id: String) async throws -> PromptRecord? {
        try await rows(
            "SELECT id, name, version, template, active, created_by, created_at FROM prompts WHERE id = \(id)"
        ) { PostgresStore.prompt(try $0.decode(PromptColumns.self)) }.first
    }

    public func activatePrompt(id: String) async throws -> PromptRecord? {
        let logger = logger
        return try await transaction { connection in
            var found: PromptRecord?
            let rows = try await connection.query(
                "SELECT id, name, version, template, active, created_by, created_at FROM prompts WHERE id = \(id) FOR UPDATE", logger: logger)
            for try await c in rows.decode(PromptColumns.self) { found = PostgresStore.prompt(c) }
            guard var record = found else { return nil }
            try await connection.query("UPDATE prompts SET active = (id = \(id)) WHERE name = \(record.name)", logger: logger)
            record.active = true
            return record
        }
    }

    public func activePrompt(name: String) async throws -> PromptRecord? {
        try await rows(
            "SELECT id, name, version, template, active, created_by, created_at FROM prompts WHERE name = \(name) AND active"
        ) { PostgresStore.prompt(try $0.decode(PromptColumns.self)) }.first
    }
}

extension PostgresStore: AnalyticsStore {
    public func recordEvents(_ events: [AnalyticsEvent]) async throws {
        guard !events.isEmpty else { return }
        try await execute(
            """
            INSERT INTO analytics_events (kind, user_id, occurred_at, data)
            SELECT k, NULLIF(u, ''), t, d
            FROM UNNEST(\(events.map(\.kind))::text[], \(events.map { $0.userID ?? "" })::text[], \(events.map(\.occurredAt))::timestamptz[],
                        \(events.map(\.data))::text[]) AS e (k, u, t, d)
            """)
    }

    public func analyticsEvents(from: Date, to: Date, kinds: [String]?, afterID: Int64?, limit: Int) async throws -> [AnalyticsEvent] {
        try await rows(
            """
            SELECT id, kind, user_id, occurred_at, data FROM analytics_events
            WHERE occurred_at >= \(from) AND occurred_at < \(to) AND id > \(afterID ?? 0)
              AND (\(kinds == nil) OR kind = ANY(\(kinds ?? [])))
            ORDER BY id LIMIT \(limit)
            """
        ) { row in
            let c = try row.decode((Int64, String, String?, Date, String).self)
            return AnalyticsEvent(id: c.0, kind: c.1, userID: c.2, occurredAt: c.3, data: c.4) }
    }
}

extension PostgresStore: OutboxStore {
    private typealias OutboxColumns = (Int64, String, String, String, String, Date, Int, Date, String?, Date?)
    private static func outboxMessage(_ c: OutboxColumns) -> OutboxMessage {
        OutboxMessage(
            id: c.0, kind: c.1, recipient: c.2, subject: c.3, body: c.4, createdAt: c.5, attempts: c.6, nextAttemptAt: c.7, lastError: c.8,
            sentAt: c.9)
    }

    public func enqueueMail(_ message: OutboxMessage) async throws -> Int64 {
        try await rows(
            """
            INSERT INTO outbox (kind, recipient, subject, body, created_at, attempts, next_attempt_at, last_error, sent_at)
            VALUES (\(message.kind), \(message.recipient), \(message.subject), \(message.body), \(message.createdAt), \(message.attempts),
                    \(message.nextAttemptAt), \(message.lastError), \(message.sentAt))
            RETURNING id
            """
        ) { try $0.decode(Int64.self) }.first ?? 0
    }

    public func claimDueMail(now: Date, leaseUntil: Date, limit: Int) async throws -> [OutboxMessage] {
        try await rows(
            """
            UPDATE outbox SET next_attempt_at = \(leaseUntil)
            WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= \(now)
                         ORDER BY next_attempt_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING id, kind, recipient, subject, body, created_at, attempts, next_attempt_at, last_error, sent_at
            """
        ) { PostgresStore.outboxMessage(try $0.decode(OutboxColumns.self)) }.sorted { ($0.id ?? 0) < ($1.id ?? 0) }
    }

    public func markMailSent(id: Int64, at: Date) async throws {
        try await execute("UPDATE outbox SET sent_at = \(at), attempts = attempts + 1, last_error = NULL WHERE id = \(id)")
    }

    public func markMailFailed(id: Int64, error: String, nextAttemptAt: Date) async throws {
        try await execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = \(error), next_attempt_at = \(nextAttemptAt) WHERE id = \(id)")
    }

    public func outbox(pendingOnly: Bool, limit: Int) async throws -> [OutboxMessage] {
        try await rows(
            """
            SELECT id, kind, recipient, subject, body, created_at, attempts, next_attempt_at, last_error, sent_at FROM outbox
            WHERE (NOT \(pendingOnly) OR sent_at IS NULL) ORDER BY id DESC LIMIT \(limit)
            """) { PostgresStore.outboxMessage(try $0.decode(OutboxColumns.self)) }
    }
}

extension PostgresStore: ConversationStore {
    private typealias ConversationColumns = (String, String, String, Date, Date)
    private typealias MessageColumns = (String, String, String, ByteBuffer, String, String, String?, Bool?, Int?, Date)
    private static func conversation(_ c: ConversationColumns) -> ConversationRecord {
        ConversationRecord(id: c.0, userID: c.1, title: c.2, createdAt: c.3, updatedAt: c.4)
    }
    private static func message(_ c: MessageColumns) -> MessageRecord {
        MessageRecord(
            id: c.0, conversationID: c.1, role: c.2, contentSealed: Array(c.3.readableBytesView), citations: c.4, timings: c.5, generator: c.6,
            answered: c.7, feedback: c.8, createdAt: c.9)
    }

    public func createConversation(_ conversation: ConversationRecord) async throws {
        try await execute(
            """
            INSERT INTO conversations (id, user_id, title, created_at, updated_at)
            VALUES (\(conversation.id), \(conversation.userID), \(conversation.title), \(conversation.createdAt), \(conversation.updatedAt))
            """)
    }

    public func conversation(id: String) async throws -> ConversationRecord? {
        try await rows(
            "SELECT id, user_id, title, created_at, updated_at FROM conversations WHERE id = \(id)"
        ) { PostgresStore.conversation(try $0.decode(ConversationColumns.self)) }.first
    }

    public func conversations(userID: String, before: Date?, limit: Int) async throws -> [ConversationRecord] {
        try await rows(
            """
            SELECT id, user_id, title, created_at, updated_at FROM conversations
            WHERE user_id = \(userID) AND (\(before)::timestamptz IS NULL OR updated_at < \(before))
            ORDER BY updated_at DESC, id LIMIT \(limit)
            """) { PostgresStore.conversation(try $0.decode(ConversationColumns.self)) }
    }

    public func appendMessages(_ messages: [MessageRecord], conversationID: String, at: Date) async throws {
        let logger = logger
        try await transaction { connection in
            for message in messages {
                try await connection.query(
                    """
                    INSERT INTO messages (id, conversation_id, role, content_sealed, citations, timings, generator, answered, feedback, created_at)
                    VALUES (\(message.id), \(conversationID), \(message.role), \(ByteBuffer(bytes: message.contentSealed)), \(message.citations),
                            \(message.timings), \(message.generator), \(message.answered), \(message.feedback), \(message.createdAt))
                    """, logger: logger)
            }
            try await connection.query("UPDATE conversations SET updated_at = \(at) WHERE id = \(conversationID)", logger: logger)
        }
    }

    public func messages(conversationID: String, before: Date?, limit: Int) async throws -> [MessageRecord] {
        try await rows(
            """
            SELECT id, conversation_id, role, content_sealed, citations, timings, generator, answered, feedback, created_at FROM messages
            WHERE conversation_id = \(conversationID) AND (\(before)::timestamptz IS NULL OR created_at < \(before))
            ORDER BY created_at DESC, role ASC LIMIT \(limit)
            """
        ) { PostgresStore.message(try $0.decode(MessageColumns.self)) }.reversed()
    }

    public func message(id: String) async throws -> MessageRecord? {
        try await rows(
            """
            SELECT id, conversation_id, role, content_sealed, citations, timings, generator, answered, feedback, created_at FROM messages
            WHERE id = \(id)
            """
        ) { PostgresStore.message(try $0.decode(MessageColumns.self)) }.first
    }

    public func setFeedback(messageID: String, feedback: Int) async throws -> Bool {
        try await !rows("UPDATE messages SET feedback = \(feedback) WHERE id = \(messageID) RETURNING id") { try $0.decode(String.self) }.isEmpty
    }

    public func deleteConversation(id: String) async throws -> Bool {
        try await !rows("DELETE FROM conversations WHERE id = \(id) RETURNING id") { try $0.decode(String.self) }.isEmpty
    }
}

extension PostgresStore: IngestJobStore {
    private typealias JobColumns = (String, String, String, String, String, Int?, Int, Int, String, String?, String?, String?, Date, Date)
    private static func job(_ c: JobColumns) -> IngestJobRecord {
        IngestJobRecord(
            id: c.0, source: c.1, format: c.2, input: c.3, status: c.4, total: c.5, processed: c.6, failed: c.7, errors: c.8, checkpoint: c.9,
            result: c.10, createdBy: c.11, createdAt: c.12, updatedAt: c.13)
    }

    public func createIngestJob(_ job: IngestJobRecord) async throws {
        try await execute(
            """
            INSERT INTO ingest_jobs (id, source, format, input, status, total, processed, failed, errors, checkpoint, result, created_by, created_at,
                                     updated_at)
            VALUES (\(job.id), \(job.source), \(job.format), \(job.input), \(job.status), \(job.total), \(job.processed), \(job.failed),
                    \(job.errors), \(job.checkpoint), \(job.result), \(job.createdBy), \(job.createdAt), \(job.updatedAt))
            """)
    }

    public func ingestJob(id: String) async throws -> IngestJobRecord? {
        try await rows(
            """
            SELECT id, source, format, input, status, total, processed, failed, errors, checkpoint, result, created_by, created_at, updated_at
            FROM ingest_jobs WHERE id = \(id)
            """
        ) { PostgresStore.job(try $0.decode(JobColumns.self)) }.first
    }

    public func updateIngestJob(_ job: IngestJobRecord) async throws {
        try await execute(
            """
            UPDATE ingest_jobs SET source = \(job.source), format = \(job.format), input = \(job.input), status = \(job.status), total = \(job.total),
              processed = \(job.processed), failed = \(job.failed), errors = \(job.errors), checkpoint = \(job.checkpoint), result = \(job.result),
              created_by = \(job.createdBy), updated_at = \(job.updatedAt)
            WHERE id = \(job.id)
            """)
    }

    public func unfinishedIngestJob(source: String, input: String) async throws -> IngestJobRecord? {
        try await rows(
            """
            SELECT id, source, format, input, status, total, processed, failed, errors, checkpoint, result, created_by, created_at, updated_at
            FROM ingest_jobs WHERE source = \(source) AND input = \(input) AND status <> 'completed' ORDER BY created_at DESC LIMIT 1
            """
        ) { PostgresStore.job(try $0.decode(JobColumns.self)) }.first
    }

    public func ingestJobs(statuses: [String], limit: Int) async throws -> [IngestJobRecord] {
        try await rows(
            """
            SELECT id, source, format, input, status, total, processed, failed, errors, checkpoint, result, created_by, created_at, updated_at
            FROM ingest_jobs WHERE status = ANY(\(statuses)) ORDER BY created_at LIMIT \(limit)
            """
        ) { PostgresStore.job(try $0.decode(JobColumns.self)) }
    }
}
