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
    public enum Purpose: String, Sendable {
        /// A signed-in session (web page or API client).
        case session
        /// The link of a registration's confirmation e-mail; it carries the password chosen with that registration.
        case verification
        /// A single-use link that sets a new password (and confirms the address, since it reached the mailbox).
        case passwordReset = "password_reset"
        /// An administrator's invitation: the link lets the invitee choose a password.
        case invitation
        /// A personal API key for another tool (an OpenAI client, an MCP client): named, scoped, revocable.
        case apiKey = "api_key"
    }

    /// What a personal API key may do.
    public enum Scope: String, Sendable, CaseIterable {
        /// Search and read the documents the user may see.
        case read
        /// Also ask questions (chat completions, the MCP `ask` tool).
        case chat
    }

    public var tokenHash: String
    public var userID: String
    public var purpose: Purpose
    public var csrfHash: String?
    /// Verification tokens only: the bcrypt hash of the password chosen with the registration that sent the link. It
    /// becomes the account's password when (and only when) this link is opened.
    public var pendingPasswordHash: String?
    public var createdAt: Date
    public var expiresAt: Date
    public var revokedAt: Date?
    /// API keys only: the public id (listed, revoked by), the owner's name for it, and its scope.
    public var keyID: String?
    public var name: String?
    public var scope: Scope?

    public init(
        tokenHash: String, userID: String, purpose: Purpose, csrfHash: String? = nil, pendingPasswordHash: String? = nil, createdAt: Date, expiresAt: Date,
        revokedAt: Date? = nil, keyID: String? = nil, name: String? = nil, scope: Scope? = nil
    ) {
        self.keyID = keyID
        self.name = name
        self.scope = scope
        self.tokenHash = tokenHash
        self.userID = userID
        self.purpose = purpose
        self.csrfHash = csrfHash
        self.pendingPasswordHash = pendingPasswordHash
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
    /// Revokes one token.
    /// - Returns: whether this call revoked it (false when it was unknown or already revoked), so a single-use link
    ///   is used once even when two requests race.
    @discardableResult
    func revokeToken(hash: String, at: Date) async throws -> Bool
    /// Revokes every token of `purpose` of a user except `keeping` (a password change keeps the current session).
    func revokeTokens(userID: String, purpose: AuthTokenRecord.Purpose, keeping: String?, at: Date) async throws
    /// The user's API keys, revoked and expired ones included, newest first.
    func apiKeys(userID: String) async throws -> [AuthTokenRecord]
    /// Revokes the user's API key with this public id.
    /// - Returns: its token hash when this call revoked it (`nil` when unknown, someone else's, or already revoked).
    func revokeAPIKey(userID: String, keyID: String, at: Date) async throws -> String?
}

extension AccountStore {
    /// Revokes every session of a user except `keeping`.
    public func revokeSessions(userID: String, keeping: String?, at: Date) async throws {
        try await revokeTokens(userID: userID, purpose: .session, keeping: keeping, at: at)
    }
}
