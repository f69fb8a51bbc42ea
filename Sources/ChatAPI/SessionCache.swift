import Foundation
import Synchronization
import Storage

/// A session the authenticator found valid, as it is remembered: the token's expiry and its user.
struct CachedSession: Codable, Sendable, Equatable {
    var userID: String
    var email: String
    var displayName: String
    var passwordHash: String
    var role: String
    var groups: [String]
    var verifiedAt: Date?
    var createdAt: Date
    var updatedAt: Date
    var tokenExpiresAt: Date

    init(user: UserRecord, tokenExpiresAt: Date) {
        userID = user.id
        email = user.email
        displayName = user.displayName
        passwordHash = user.passwordHash
        role = user.role
        groups = user.groups
        verifiedAt = user.verifiedAt
        createdAt = user.createdAt
        updatedAt = user.updatedAt
        self.tokenExpiresAt = tokenExpiresAt
    }

    var user: UserRecord {
        UserRecord(
            id: userID, email: email, displayName: displayName, passwordHash: passwordHash, role: role, groups: groups, verifiedAt: verifiedAt,
            createdAt: createdAt, updatedAt: updatedAt)
    }
}

/// Where validated sessions are remembered, so that most requests are authenticated without two store queries
/// (the token, then its user). Entries live for a few seconds at most and are dropped whenever the token is revoked
/// or the user changes, through ``AccountsWithSessionCache``.
protocol SessionCache: Sendable {
    func session(tokenHash: String) async -> CachedSession?
    func remember(_ session: CachedSession, tokenHash: String) async
    func forget(tokenHash: String) async
    /// Drops every remembered session of the user (role change, disabling, password change, deletion).
    func forget(userID: String) async
}

/// Sessions remembered in this process for `lifetime`. Exact for one server; with several replicas and no Redis,
/// a session revoked through one replica may still be accepted by another until its entry expires.
final class MemorySessionCache: SessionCache {
    private struct State {
        var entries: [String: (session: CachedSession, until: ContinuousClock.Instant)] = [:]
        var tokensOfUser: [String: Set<String>] = [:]
    }

    private let state = Mutex(State())
    let lifetime: Duration
    let capacity: Int

    init(lifetime: Duration = .seconds(5), capacity: Int = 100_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    func session(tokenHash: String) async -> CachedSession? {
        state.withLock { state in
            guard let entry = state.entries[tokenHash] else { return nil }
            guard entry.until > .now else {
                Self.remove(tokenHash, from: &state)
                return nil
            }
            return entry.session
        }
    }

    func remember(_ session: CachedSession, tokenHash: String) async {
        state.withLock { state in
            if state.entries.count >= capacity {
                // Full of live sessions: start again rather than track ages (the store answers meanwhile).
                state = State()
            }
            state.entries[tokenHash] = (session, .now + lifetime)
            state.tokensOfUser[session.userID, default: []].insert(tokenHash)
        }
    }

    func forget(tokenHash: String) async { state.withLock { Self.remove(tokenHash, from: &$0) } }

    func forget(userID: String) async {
        state.withLock { state in
            for hash in state.tokensOfUser.removeValue(forKey: userID) ?? [] { state.entries[hash] = nil }
        }
    }

    private static func remove(_ tokenHash: String, from state: inout State) {
        guard let entry = state.entries.removeValue(forKey: tokenHash) else { return }
        state.tokensOfUser[entry.session.userID]?.remove(tokenHash)
        if state.tokensOfUser[entry.session.userID]?.isEmpty == true { state.tokensOfUser[entry.session.userID] = nil }
    }
}

/// Sessions remembered in Redis, shared by every replica: a revocation through one replica is seen by all at once.
/// Keys are the token's SHA-256 (never the token) and the user's id; entries expire after `lifetime` anyway. While
/// Redis is away nothing is remembered and every request asks the store: slower, never stale.
final class RedisSessionCache: SessionCache {
    let redis: RedisClient
    let health: RedisHealth
    let prefix: String
    let lifetime: Int

    init(redis: RedisClient, health: RedisHealth, prefix: String, lifetimeSeconds: Int = 30) {
        self.redis = redis
        self.health = health
        self.prefix = prefix
        lifetime = lifetimeSeconds
    }

    /// The last entry decoded for each token, by its bytes in Redis.
    private let decoded = Mutex<[String: (bytes: [UInt8], session: CachedSession)]>([:])
    private static let decodedCapacity = 10_000

    private func tokenKey(_ hash: String) -> String { prefix + "session:" + hash }
    private func userKey(_ id: String) -> String { prefix + "session-user:" + id }

    func session(tokenHash: String) async -> CachedSession? {
        do {
            let bytes = try await redis.get(tokenKey(tokenHash))
            health.succeeded()
            guard let bytes else { return nil }
            // Redis stays the authority (the read above happens every time); only the decoding of the very same bytes
            // is skipped, which cost 2% of a search request's CPU.
            if let known = decoded.withLock({ $0[tokenHash] }), known.bytes == bytes { return known.session }
            guard let session = try? Self.decoder.decode(CachedSession.self, from: Data(bytes)) else { return nil }
            decoded.withLock { decoded in
                if decoded.count >= Self.decodedCapacity { decoded.removeAll(keepingCapacity: true) }
                decoded[tokenHash] = (bytes, session)
            }
            return session
        } catch {
            health.failed(error)
            return nil
        }
    }

    func remember(_ session: CachedSession, tokenHash: String) async {
        guard let bytes = try? Self.encoder.encode(session) else { return }
        do {
            // The user's set of cached tokens first, so that a forget(userID) racing with this finds the token.
            _ = try await redis.send(["SADD", userKey(session.userID), tokenHash])
            try await redis.expire(userKey(session.userID), seconds: lifetime)
            try await redis.set(tokenKey(tokenHash), Array(bytes), expireSeconds: lifetime)
            health.succeeded()
        } catch {
            health.failed(error)
        }
    }

    func forget(tokenHash: String) async {
        _ = decoded.withLock { $0.removeValue(forKey: tokenHash) }
        do {
            try await redis.delete([tokenKey(tokenHash)])
            health.succeeded()
        } catch {
            health.failed(error)
        }
    }

    func forget(userID: String) async {
        do {
            if case .array(let members?) = try await redis.send(["SMEMBERS", userKey(userID)]) {
                let keys = members.compactMap { $0.string }.map(tokenKey)
                if !keys.isEmpty { try await redis.delete(keys) }
            }
            try await redis.delete([userKey(userID)])
            health.succeeded()
        } catch {
            health.failed(error)
        }
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        return encoder
    }()
    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }()
}

/// The account store as the routes see it: every change that could end a session (revoking a token, signing a
/// user out everywhere, changing or deleting a user) also drops the cached sessions it affects.
struct AccountsWithSessionCache: AccountStore {
    let base: any AccountStore
    let sessions: any SessionCache

    func createUser(_ user: UserRecord, firstUserRole: String?) async throws -> UserRecord {
        try await base.createUser(user, firstUserRole: firstUserRole)
    }
    func user(id: String) async throws -> UserRecord? { try await base.user(id: id) }
    func user(email: String) async throws -> UserRecord? { try await base.user(email: email) }
    func updateUser(_ user: UserRecord) async throws {
        try await base.updateUser(user)
        await sessions.forget(userID: user.id)
    }
    func userCount() async throws -> Int { try await base.userCount() }
    func users(matching query: UserQuery) async throws -> UserPage { try await base.users(matching: query) }
    func deleteUser(id: String) async throws -> Bool {
        let deleted = try await base.deleteUser(id: id)
        await sessions.forget(userID: id)
        return deleted
    }
    func insertToken(_ token: AuthTokenRecord) async throws { try await base.insertToken(token) }
    func token(hash: String) async throws -> AuthTokenRecord? { try await base.token(hash: hash) }
    @discardableResult
    func revokeToken(hash: String, at: Date) async throws -> Bool {
        let revoked = try await base.revokeToken(hash: hash, at: at)
        await sessions.forget(tokenHash: hash)
        return revoked
    }
    func revokeTokens(userID: String, purpose: AuthTokenRecord.Purpose, keeping: String?, at: Date) async throws {
        try await base.revokeTokens(userID: userID, purpose: purpose, keeping: keeping, at: at)
        if purpose == .session { await sessions.forget(userID: userID) }
    }
}
