public import Foundation

/// A person who signs in.
public struct UserRecord: Sendable, Equatable {
    public var id: String
    /// Lower-cased; unique.
    public var email: String
    public var displayName: String
    /// bcrypt.
    public var passwordHash: String
    /// `user`, `editor` or `admin`.
    public var role: String
    public var groups: [String]
    public var verifiedAt: Date?
    public var disabledAt: Date?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, email: String, displayName: String, passwordHash: String, role: String, groups: [String] = [], verifiedAt: Date? = nil,
        disabledAt: Date? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.email = email
        self.displayName = displayName
        self.passwordHash = passwordHash
        self.role = role
        self.groups = groups
        self.verifiedAt = verifiedAt
        self.disabledAt = disabledAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// An opaque token as stored: only the SHA-256 of the secret the client holds.
public struct AuthTokenRecord: Sendable, Equatable {
    public enum Purpose: String, Sendable { case session, verification }

    public var tokenHash: String
    public var userID: String
    public var purpose: Purpose
    public var csrfHash: String?
    public var createdAt: Date
    public var expiresAt: Date
    public var revokedAt: Date?

    public init(tokenHash: String, userID: String, purpose: Purpose, csrfHash: String? = nil, createdAt: Date, expiresAt: Date, revokedAt: Date? = nil) {
        self.tokenHash = tokenHash
        self.userID = userID
        self.purpose = purpose
        self.csrfHash = csrfHash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }
}

/// Accounts and their tokens.
public protocol AccountStore: Sendable {
    /// Creates a user; when no user exists yet, the new one gets `firstUserRole` instead of its own role
    /// (decided inside the transaction, so two first registrations cannot both become admin).
    /// - Throws: ``StoreError/conflict(_:)`` when the e-mail is taken.
    func createUser(_ user: UserRecord, firstUserRole: String?) async throws -> UserRecord
    func user(id: String) async throws -> UserRecord?
    func user(email: String) async throws -> UserRecord?
    /// Replaces the stored user with the same id.
    func updateUser(_ user: UserRecord) async throws
    func userCount() async throws -> Int
    /// A page of users matching an admin's search and filters, by e-mail, with the total count.
    func users(matching query: UserQuery) async throws -> UserPage
    /// Deletes the user with their tokens and conversations; false when there was none.
    func deleteUser(id: String) async throws -> Bool

    func insertToken(_ token: AuthTokenRecord) async throws
    func token(hash: String) async throws -> AuthTokenRecord?
    func revokeToken(hash: String, at: Date) async throws
    /// Revokes every session of a user except `keeping` (a password change keeps the current session).
    func revokeSessions(userID: String, keeping: String?, at: Date) async throws
}
