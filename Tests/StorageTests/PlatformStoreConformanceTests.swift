import Foundation
import Storage
import StoreTesting
import Testing

@Suite("Platform store conformance (users admin, audit, prompts, analytics, outbox, conversations)")
struct PlatformStoreConformanceTests {
    static let now = Date(timeIntervalSince1970: 1_790_000_000)

    static func user(_ email: String, name: String = "Name", role: String = "user", verified: Bool = true, disabled: Bool = false) -> UserRecord {
        UserRecord(
            id: UUID().uuidString.lowercased(), email: email, displayName: name, passwordHash: "$2b$04$hash", role: role,
            verifiedAt: verified ? now : nil, disabledAt: disabled ? now : nil, createdAt: now, updatedAt: now)
    }

    @Test("users: search, filters, pagination with totals, delete cascades", arguments: StoreKind.allCases)
    func userListing(kind: StoreKind) async throws {
        try await TestStores.withDatabaseURL(kind) { url in
            let store = try await StoreFactory.open(url: url)
            defer { Task { await store.close() } }
            let ann = try await store.createUser(Self.user("ann@example.com", name: "Ann Archer", role: "admin"), firstUserRole: nil)
            _ = try await store.createUser(Self.user("bob@example.com", name: "Bob Builder", role: "editor"), firstUserRole: nil)
            _ = try await store.createUser(Self.user("cy@example.com", name: "Cy 100%_off", verified: false), firstUserRole: nil)
            _ = try await store.createUser(Self.user("dee@example.com", name: "Dee", disabled: true), firstUserRole: nil)

            let all = try await store.users(matching: UserQuery())
            #expect(all.total == 4 && all.users.map(\.email) == ["ann@example.com", "bob@example.com", "cy@example.com", "dee@example.com"])
            #expect(try await store.users(matching: UserQuery(search: "BUILDER")).users.map(\.email) == ["bob@example.com"])
            // LIKE wildcards in the search are literal.
            #expect(try await store.users(matching: UserQuery(search: "%_")).users.map(\.email) == ["cy@example.com"])
            #expect(try await store.users(matching: UserQuery(search: "_")).total == 1)
            #expect(try await store.users(matching: UserQuery(role: "editor")).users.map(\.email) == ["bob@example.com"])
            #expect(try await store.users(matching: UserQuery(status: .unverified)).users.map(\.email) == ["cy@example.com"])
            #expect(try await store.users(matching: UserQuery(status: .disabled)).users.map(\.email) == ["dee@example.com"])
            #expect(try await store.users(matching: UserQuery(status: .active)).total == 2)
            let page = try await store.users(matching: UserQuery(limit: 2, offset: 2))
            #expect(page.total == 4 && page.users.map(\.email) == ["cy@example.com", "dee@example.com"])
            let past = try await store.users(matching: UserQuery(limit: 2, offset: 10))
            #expect(past.total == 4 && past.users.isEmpty)

            try await store.insertToken(AuthTokenRecord(tokenHash: "t", userID: ann.id, purpose: .session, createdAt: Self.now, expiresAt: Self.now + 60))
            let conversation = ConversationRecord(id: "c1", userID: ann.id, title: "Q", createdAt: Self.now, updatedAt: Self.now)
            try await store.createConversation(conversation)
            #expect(try await store.deleteUser(id: ann.id))
            #expect(try await store.deleteUser(id: ann.id) == false)
            #expect(try await store.token(hash: "t") == nil)
            #expect(try await store.conversation(id: "c1") == nil)
        }
    }

    @Test("audit log: newest first, cursor, filters by actor, target and action prefix", arguments: StoreKind.allCases)
    func audit(kind: StoreKind) async throws {
        try await TestStores.withDatabaseURL(kind) { url in
            let store = try await StoreFactory.open(url: url)
            defer { Task { await store.close() } }
            for (i, action) in ["user.create", "user.update", "auth.login_failed", "prompt.activate"].enumerated() {
                try await store.appendAudit(
                    AuditEntry(
                        occurredAt: Self.now + Double(i), actorID: i == 2 ? nil : "admin", action: action, target: "user:\(i)", ip: "127.0.0.1",
                        detail: #"{"n":\#(i)}"#))
            }
            let all = try await store.auditEntries(AuditQuery())
            #expect(all.map(\.action) == ["prompt.activate", "auth.login_failed", "user.update", "user.create"])
            #expect(all[1].actorID == nil && all[1].detail == #"{"n":2}"# && all[1].occurredAt == Self.now + 2)
            let older = try await store.auditEntries(AuditQuery(before: all[1].id, limit: 1))
            #expect(older.map(\.action) == ["user.update"])
            #expect(try await store.auditEntries(AuditQuery(action: "user.")).map(\.action) == ["user.update", "user.create"])
            #expect(try await store.auditEntries(AuditQuery(action: "user.update")).count == 1)
            #expect(try await store.auditEntries(AuditQuery(actorID: "admin")).count == 3)
            #expect(try await store.auditEntries(AuditQuery(target: "user:0")).map(\.action) == ["user.create"])
        }
    }

    @Test("prompts: versions count up per name, exactly one active", arguments: StoreKind.allCases)
    func prompts(kind: StoreKind) async throws {
        try await TestStores.withDatabaseURL(kind) { url in
            let store = try await StoreFactory.open(url: url)
            defer { Task { await store.close() } }
            let v1 = try await store.addPromptVersion(name: "answer", template: "one {{question}}", createdBy: nil, activate: true, at: Self.now)
            let v2 = try await store.addPromptVersion(name: "answer", template: "two {{question}}", createdBy: "u", activate: false, at: Self.now)
            _ = try await store.addPromptVersion(name: "rewrite", template: "r", createdBy: nil, activate: true, at: Self.now)
            #expect(v1.version == 1 && v2.version == 2)
            #expect(try await store.activePrompt(name: "answer") == v1)
            #expect(try await store.prompts(name: "answer").map(\.version) == [2, 1])
            #expect(try await store.prompts(name: nil).map(\.name) == ["answer", "answer", "rewrite"])
            let activated = try await store.activatePrompt(id: v2.id)
            #expect(activated?.active == true)
            #expect(try await store.activePrompt(name: "answer")?.id == v2.id)
            #expect(try await store.prompts(name: "answer").filter(\.active).count == 1)
            #expect(try await store.activePrompt(name: "rewrite")?.template == "r")
            #expect(try await store.activatePrompt(id: "missing") == nil)
            #expect(try await store.prompt(id: v1.id)?.active == false)
            let v3 = try await store.addPromptVersion(name: "answer", template: "three", createdBy: nil, activate: true, at: Self.now)
            #expect(v3.version == 3)
            #expect(try await store.activePrompt(name: "answer")?.id == v3.id)
        }
    }

    @Test("analytics: batch insert, time range, kinds, id paging", arguments: StoreKind.allCases)
    func analytics(kind: StoreKind) async throws {
        try await TestStores.withDatabaseURL(kind) { url in
            let store = try await StoreFactory.open(url: url)
            defer { Task { await store.close() } }
            var events: [AnalyticsEvent] = []
            for i in 0..<10 {
                let kind = i % 2 == 0 ? "chat.message" : "auth.login"
                let user: String? = i == 0 ? nil : "u\(i % 3)"
                events.append(AnalyticsEvent(kind: kind, userID: user, occurredAt: Self.now + Double(i * 60), data: "{\"i\":\(i)}"))
            }
            try await store.recordEvents(events)
            let all = try await store.analyticsEvents(from: Self.now, to: Self.now + 3600, kinds: nil, afterID: nil, limit: 100)
            #expect(all.count == 10 && all[0].userID == nil && all[1].userID == "u1" && all[3].data == #"{"i":3}"#)
            let chat = try await store.analyticsEvents(from: Self.now + 60, to: Self.now + 480, kinds: ["chat.message"], afterID: nil, limit: 100)
            #expect(chat.map(\.occurredAt) == [Self.now + 120, Self.now + 240, Self.now + 360])
            let first = try await store.analyticsEvents(from: Self.now, to: Self.now + 3600, kinds: nil, afterID: nil, limit: 4)
            let next = try await store.analyticsEvents(from: Self.now, to: Self.now + 3600, kinds: nil, afterID: first.last?.id, limit: 100)
            #expect(first.count == 4 && next.count == 6)
        }
    }

    @Test("outbox: claimed once per lease, failures counted, sent messages leave the queue", arguments: StoreKind.allCases)
    func outbox(kind: StoreKind) async throws {
        try await TestStores.withDatabaseURL(kind) { url in
            let store = try await StoreFactory.open(url: url)
            defer { Task { await store.close() } }
            let id = try await store.enqueueMail(
                OutboxMessage(kind: "verification", recipient: "a@example.com", subject: "Hi", body: "Body", createdAt: Self.now, nextAttemptAt: Self.now))
            let claimed = try await store.claimDueMail(now: Self.now, leaseUntil: Self.now + 60, limit: 10)
            #expect(claimed.map(\.id) == [id] && claimed[0].subject == "Hi")
            #expect(try await store.claimDueMail(now: Self.now + 1, leaseUntil: Self.now + 61, limit: 10).isEmpty)
            try await store.markMailFailed(id: id, error: "connection refused", nextAttemptAt: Self.now + 30)
            let pending = try await store.outbox(pendingOnly: true, limit: 10)
            #expect(pending.first?.attempts == 1 && pending.first?.lastError == "connection refused")
            #expect(try await store.claimDueMail(now: Self.now + 31, leaseUntil: Self.now + 91, limit: 10).map(\.id) == [id])
            try await store.markMailSent(id: id, at: Self.now + 32)
            #expect(try await store.outbox(pendingOnly: true, limit: 10).isEmpty)
            #expect(try await store.outbox(pendingOnly: false, limit: 10).first?.sentAt == Self.now + 32)
            #expect(try await store.claimDueMail(now: Self.now + 1000, leaseUntil: Self.now + 1060, limit: 10).isEmpty)
        }
    }

    @Test("conversations: owned, ordered by activity, messages in order with sealed bytes, feedback", arguments: StoreKind.allCases)
    func conversations(kind: StoreKind) async throws {
        try await TestStores.withDatabaseURL(kind) { url in
            let store = try await StoreFactory.open(url: url)
            defer { Task { await store.close() } }
            let user = try await store.createUser(Self.user("a@example.com"), firstUserRole: nil)
            for (i, id) in ["c1", "c2"].enumerated() {
                try await store.createConversation(
                    ConversationRecord(id: id, userID: user.id, title: id, createdAt: Self.now + Double(i), updatedAt: Self.now + Double(i)))
            }
            let question = MessageRecord(id: "m1", conversationID: "c1", role: "user", contentSealed: [0, 1, 2, 255], createdAt: Self.now + 10)
            let answer = MessageRecord(
                id: "m2", conversationID: "c1", role: "assistant", contentSealed: [9], citations: #"[{"n":1}]"#, timings: #"{"total_ms":5}"#,
                generator: "builtin", answered: true, createdAt: Self.now + 10)
            try await store.appendMessages([question, answer], conversationID: "c1", at: Self.now + 10)
            #expect(try await store.conversations(userID: user.id, before: nil, limit: 10).map(\.id) == ["c1", "c2"])
            #expect(try await store.conversations(userID: user.id, before: Self.now + 10, limit: 10).map(\.id) == ["c2"])
            #expect(try await store.messages(conversationID: "c1", before: nil, limit: 10) == [question, answer])
            #expect(try await store.messages(conversationID: "c1", before: nil, limit: 1) == [answer])
            #expect(try await store.setFeedback(messageID: "m2", feedback: -1))
            #expect(try await store.message(id: "m2")?.feedback == -1)
            #expect(try await store.setFeedback(messageID: "nope", feedback: 1) == false)
            #expect(try await store.deleteConversation(id: "c1"))
            #expect(try await store.message(id: "m1") == nil)
        }
    }
}
