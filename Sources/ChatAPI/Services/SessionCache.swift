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
    /// A personal API key's public id and scope (`nil` for a signed-in session).
    var apiKeyID: String?
    var apiKeyScope: String?

    init(user: UserRecord, tokenExpiresAt: Date, apiKeyID: String? = nil, apiKeyScope: String? = nil) {
        self.apiKeyID = apiKeyID
        self.apiKeyScope = apiKeyScope
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
