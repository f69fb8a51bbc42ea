@testable import Accounts
@testable import ChatAPI
import Foundation
import Storage
import Synchronization
import Testing

/// An account store that counts token look-ups on the way to the real one.
private final class CountingAccounts: AccountStore {
    let base: any AccountStore
    let tokenReads = Mutex(0)

    init(base: any AccountStore) { self.base = base }

    func createUser(_ user: UserRecord, firstUserRole: String?) async throws -> UserRecord { try await base.createUser(user, firstUserRole: firstUserRole) }
    func user(id: String) async throws -> UserRecord? { try await base.user(id: id) }
    func user(email: String) async throws -> UserRecord? { try await base.user(email: email) }
    func updateUser(_ user: UserRecord) async throws { try await base.updateUser(user) }
    func userCount() async throws -> Int { try await base.userCount() }
    func users(matching query: UserQuery) async throws -> UserPage { try await base.users(matching: query) }
    func deleteUser(id: String) async throws -> Bool { try await base.deleteUser(id: id) }
    func insertToken(_ token: AuthTokenRecord) async throws { try await base.insertToken(token) }
    func token(hash: String) async throws -> AuthTokenRecord? {
        tokenReads.withLock { $0 += 1 }
        // Slow enough that the concurrent requests all arrive while it runs.
        try await Task.sleep(for: .milliseconds(50))
        return try await base.token(hash: hash)
    }
    @discardableResult
    func revokeToken(hash: String, at: Date) async throws -> Bool { try await base.revokeToken(hash: hash, at: at) }
    func revokeTokens(userID: String, purpose: AuthTokenRecord.Purpose, keeping: String?, at: Date) async throws {
        try await base.revokeTokens(userID: userID, purpose: purpose, keeping: keeping, at: at)
    }
    func apiKeys(userID: String) async throws -> [AuthTokenRecord] { try await base.apiKeys(userID: userID) }
    func revokeAPIKey(userID: String, keyID: String, at: Date) async throws -> String? { try await base.revokeAPIKey(userID: userID, keyID: keyID, at: at) }
}

/// A session cache whose `remember` lets a revocation through first: the moment a look-up has read a valid token
/// and is about to cache it.
private final class RevokeWhileRemembering: SessionCache {
    let inner = MemorySessionCache()
    let revoke: @Sendable () async -> Void

    init(revoke: @escaping @Sendable () async -> Void) { self.revoke = revoke }

    func session(tokenHash: String) async -> CachedSession? { await inner.session(tokenHash: tokenHash) }
    func remember(_ session: CachedSession, tokenHash: String) async {
        await revoke()
        await inner.remember(session, tokenHash: tokenHash)
    }
    func forget(tokenHash: String) async { await inner.forget(tokenHash: tokenHash) }
    func forget(userID: String) async { await inner.forget(userID: userID) }
}

private final class RunCount: Sendable {
    private let count = Mutex(0)
    func next() -> Int { count.withLock { $0 += 1; return $0 } }
}

@Suite("Session look-ups")
struct SessionLookupTests {
    static func store() throws -> (SQLiteStore, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-sessions-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return (try SQLiteStore(path: directory.appendingPathComponent("omnifin.db").path), directory)
    }

    /// A user with one session token; returns the token's hash.
    static func signedIn(_ store: some AccountStore) async throws -> (user: UserRecord, hash: String) {
        let now = Date()
        let user = try await store.createUser(
            UserRecord(id: UUID().uuidString, email: "\(UUID().uuidString)@example.com", displayName: "Ann", passwordHash: "x", role: "user", createdAt: now, updatedAt: now),
            firstUserRole: nil)
        let hash = Secrets.hash(UUID().uuidString)
        try await store.insertToken(AuthTokenRecord(tokenHash: hash, userID: user.id, purpose: .session, createdAt: now, expiresAt: now + 3600))
        return (user, hash)
    }

    @Test("concurrent requests of a token whose cached session expired read the store once between them")
    func concurrentMissesShareOneLookup() async throws {
        let (store, directory) = try Self.store()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (user, hash) = try await Self.signedIn(store)
        let accounts = CountingAccounts(base: store)
        let authenticator = TokenAuthenticator(accounts: accounts, sessions: MemorySessionCache())
        let sessions = try await withThrowingTaskGroup(of: CachedSession?.self) { group in
            for _ in 0..<40 { group.addTask { try await authenticator.session(tokenHash: hash) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(sessions.count == 40 && sessions.allSatisfy { $0?.userID == user.id })
        // One look-up and its check after caching.
        #expect(accounts.tokenReads.withLock { $0 } == 2)
        // Cached now: no more reads. Unknown tokens are still refused.
        #expect(try await authenticator.session(tokenHash: hash)?.userID == user.id)
        #expect(accounts.tokenReads.withLock { $0 } == 2)
        #expect(try await authenticator.session(tokenHash: Secrets.hash("not a token")) == nil)
        await store.close()
    }

    @Test("a token revoked while its session is being cached is refused, and the revoked session is not left in the cache")
    func revocationDuringLookup() async throws {
        let (store, directory) = try Self.store()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (_, hash) = try await Self.signedIn(store)
        // The revocation as the routes make it: the store first, then the cache entries it knows of.
        let cache = RevokeWhileRemembering { try? await store.revokeToken(hash: hash, at: Date()) }
        let authenticator = TokenAuthenticator(accounts: store, sessions: cache)
        #expect(try await authenticator.session(tokenHash: hash) == nil)
        #expect(await cache.inner.session(tokenHash: hash) == nil)
        #expect(try await authenticator.session(tokenHash: hash) == nil)
        await store.close()
    }

    @Test("single flight: one run per key at a time, its result or error shared, the next call runs again")
    func singleFlight() async throws {
        let flight = SingleFlight<String, Int>()
        let runs = RunCount()
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await flight.run("a") {
                        try await Task.sleep(for: .milliseconds(50))
                        return runs.next()
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results == Array(repeating: 1, count: 20))
        #expect(try await flight.run("a") { runs.next() } == 2)
        struct Failed: Error {}
        await #expect(throws: Failed.self) { try await flight.run("b") { throw Failed() } }
        #expect(try await flight.run("b") { 7 } == 7)
    }
}
