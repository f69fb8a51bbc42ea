import Foundation
import Storage
import StoreTesting
import Testing

@Suite("AccountStore conformance")
struct AccountStoreConformanceTests {
    static func user(_ email: String, role: String = "user") -> UserRecord {
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        return UserRecord(
            id: UUID().uuidString.lowercased(), email: email, displayName: "Name", passwordHash: "$2b$04$hash", role: role, groups: ["ap"],
            createdAt: now, updatedAt: now)
    }

    @Test("users: the first becomes admin, e-mails are unique, updates persist", arguments: StoreKind.allCases)
    func users(kind: StoreKind) async throws {
        try await TestStores.withDatabaseURL(kind) { url in
            let store = try await StoreFactory.open(url: url)
            let first = try await store.createUser(Self.user("a@example.com"), firstUserRole: "admin")
            let second = try await store.createUser(Self.user("b@example.com"), firstUserRole: "admin")
            #expect(first.role == "admin" && second.role == "user")
            await #expect(throws: StoreError.self) { try await store.createUser(Self.user("a@example.com"), firstUserRole: nil) }
            #expect(try await store.userCount() == 2)
            var changed = try #require(try await store.user(email: "b@example.com"))
            #expect(changed == second)
            changed.verifiedAt = Date(timeIntervalSince1970: 1_790_000_100)
            changed.groups = ["payroll", "ap"]
            try await store.updateUser(changed)
            #expect(try await store.user(id: second.id) == changed)
            #expect(try await store.user(id: "missing") == nil)
            await store.close()
        }
    }

    @Test("tokens: stored by hash, revoked one by one or all but the current", arguments: StoreKind.allCases)
    func tokens(kind: StoreKind) async throws {
        try await TestStores.withDatabaseURL(kind) { url in
            let store = try await StoreFactory.open(url: url)
            let user = try await store.createUser(Self.user("a@example.com"), firstUserRole: nil)
            let now = Date(timeIntervalSince1970: 1_790_000_000)
            for hash in ["h1", "h2", "h3"] {
                try await store.insertToken(AuthTokenRecord(tokenHash: hash, userID: user.id, purpose: .session, createdAt: now, expiresAt: now + 3600))
            }
            try await store.insertToken(AuthTokenRecord(tokenHash: "v1", userID: user.id, purpose: .verification, createdAt: now, expiresAt: now + 60))
            #expect(try await store.token(hash: "h1")?.userID == user.id)
            try await store.revokeToken(hash: "h1", at: now + 1)
            #expect(try await store.token(hash: "h1")?.revokedAt == now + 1)
            try await store.revokeSessions(userID: user.id, keeping: "h2", at: now + 2)
            #expect(try await store.token(hash: "h2")?.revokedAt == nil)
            #expect(try await store.token(hash: "h3")?.revokedAt == now + 2)
            #expect(try await store.token(hash: "v1")?.revokedAt == nil)
            #expect(try await store.token(hash: "h1")?.revokedAt == now + 1)
            #expect(try await store.token(hash: "nope") == nil)
            await store.close()
        }
    }
}
