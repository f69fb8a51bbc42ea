import Foundation
import Synchronization
import Storage

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
        if purpose == .session || purpose == .apiKey { await sessions.forget(userID: userID) }
    }
    func apiKeys(userID: String) async throws -> [AuthTokenRecord] { try await base.apiKeys(userID: userID) }
    func revokeAPIKey(userID: String, keyID: String, at: Date) async throws -> String? {
        let hash = try await base.revokeAPIKey(userID: userID, keyID: keyID, at: at)
        if let hash { await sessions.forget(tokenHash: hash) }
        return hash
    }
}
