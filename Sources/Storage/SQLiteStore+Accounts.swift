public import Foundation
import GRDB

struct SQLiteUserRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "users"

    enum Columns {
        static let email = Column("email")
    }

    enum CodingKeys: String, CodingKey {
        case id, email, role, groups
        case displayName = "display_name"
        case passwordHash = "password_hash"
        case verifiedAt = "verified_at"
        case disabledAt = "disabled_at"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    var id: String
    var email: String
    var displayName: String
    var passwordHash: String
    var role: String
    var groups: String
    var verifiedAt: Date?
    var disabledAt: Date?
    var createdAt: Date
    var updatedAt: Date

    init(_ user: UserRecord) {
        id = user.id
        email = user.email
        displayName = user.displayName
        passwordHash = user.passwordHash
        role = user.role
        groups = JSONColumn.encode(user.groups)
        verifiedAt = user.verifiedAt
        disabledAt = user.disabledAt
        createdAt = user.createdAt
        updatedAt = user.updatedAt
    }

    func record() throws(StoreError) -> UserRecord {
        UserRecord(
            id: id, email: email, displayName: displayName, passwordHash: passwordHash, role: role,
            groups: try JSONColumn.decode([String].self, groups, column: "users.groups"), verifiedAt: verifiedAt, disabledAt: disabledAt,
            createdAt: createdAt, updatedAt: updatedAt)
    }
}

struct SQLiteTokenRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "auth_tokens"

    enum CodingKeys: String, CodingKey {
        case purpose
        case tokenHash = "token_hash"
        case userID = "user_id"
        case csrfHash = "csrf_hash"
        case pendingPasswordHash = "pending_password_hash"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case revokedAt = "revoked_at"
        case keyID = "key_id"
        case name
        case scope
    }

    var tokenHash: String
    var userID: String
    var purpose: String
    var csrfHash: String?
    var pendingPasswordHash: String?
    var createdAt: Date
    var expiresAt: Date
    var revokedAt: Date?
    var keyID: String?
    var name: String?
    var scope: String?

    init(_ token: AuthTokenRecord) {
        keyID = token.keyID
        name = token.name
        scope = token.scope?.rawValue
        tokenHash = token.tokenHash
        userID = token.userID
        purpose = token.purpose.rawValue
        csrfHash = token.csrfHash
        pendingPasswordHash = token.pendingPasswordHash
        createdAt = token.createdAt
        expiresAt = token.expiresAt
        revokedAt = token.revokedAt
    }

    func record() throws(StoreError) -> AuthTokenRecord {
        guard let purpose = AuthTokenRecord.Purpose(rawValue: purpose) else { throw .corruptRow("token with unknown purpose '\(purpose)'") }
        return AuthTokenRecord(
            tokenHash: tokenHash, userID: userID, purpose: purpose, csrfHash: csrfHash, pendingPasswordHash: pendingPasswordHash, createdAt: createdAt,
            expiresAt: expiresAt, revokedAt: revokedAt, keyID: keyID, name: name, scope: scope.flatMap(AuthTokenRecord.Scope.init(rawValue:)))
    }
}

extension SQLiteStore: AccountStore {
    public func createUser(_ user: UserRecord, firstUserRole: String?) async throws -> UserRecord {
        try await writeTransaction { db in
            var user = user
            if let firstUserRole, try SQLiteUserRow.fetchCount(db) == 0 { user.role = firstUserRole }
            if try SQLiteUserRow.filter(SQLiteUserRow.Columns.email == user.email).fetchCount(db) > 0 {
                throw StoreError.conflict("an account with this e-mail address already exists")
            }
            try SQLiteUserRow(user).insert(db)
            return user
        }
    }

    public func user(id: String) async throws -> UserRecord? {
        try await read { db in try SQLiteUserRow.fetchOne(db, key: id)?.record() }
    }

    public func user(email: String) async throws -> UserRecord? {
        try await read { db in try SQLiteUserRow.filter(SQLiteUserRow.Columns.email == email).fetchOne(db)?.record() }
    }

    public func updateUser(_ user: UserRecord) async throws {
        try await writeTransaction { db in try SQLiteUserRow(user).update(db) }
    }

    public func userCount() async throws -> Int {
        try await read { db in try SQLiteUserRow.fetchCount(db) }
    }

    public func insertToken(_ token: AuthTokenRecord) async throws {
        try await writeTransaction { db in try SQLiteTokenRow(token).insert(db) }
    }

    public func token(hash: String) async throws -> AuthTokenRecord? {
        try await read { db in try SQLiteTokenRow.fetchOne(db, key: hash)?.record() }
    }

    @discardableResult
    public func revokeToken(hash: String, at: Date) async throws -> Bool {
        try await writeTransaction { db in
            try db.execute(sql: "UPDATE auth_tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL", arguments: [at, hash])
            return db.changesCount > 0
        }
    }

    public func revokeTokens(userID: String, purpose: AuthTokenRecord.Purpose, keeping: String?, at: Date) async throws {
        try await writeTransaction { db in
            try db.execute(
                sql: """
                    UPDATE auth_tokens SET revoked_at = ?
                    WHERE user_id = ? AND purpose = ? AND revoked_at IS NULL AND token_hash <> ?
                    """,
                arguments: [at, userID, purpose.rawValue, keeping ?? ""])
        }
    }

    public func apiKeys(userID: String) async throws -> [AuthTokenRecord] {
        try await read { db in
            try SQLiteTokenRow.fetchAll(
                db, sql: "SELECT * FROM auth_tokens WHERE user_id = ? AND purpose = ? ORDER BY created_at DESC, key_id",
                arguments: [userID, AuthTokenRecord.Purpose.apiKey.rawValue]
            ).map { try $0.record() }
        }
    }

    public func revokeAPIKey(userID: String, keyID: String, at: Date) async throws -> String? {
        try await writeTransaction { db in
            guard
                let hash = try String.fetchOne(
                    db, sql: "SELECT token_hash FROM auth_tokens WHERE user_id = ? AND key_id = ? AND purpose = ? AND revoked_at IS NULL",
                    arguments: [userID, keyID, AuthTokenRecord.Purpose.apiKey.rawValue])
            else { return nil }
            try db.execute(sql: "UPDATE auth_tokens SET revoked_at = ? WHERE token_hash = ?", arguments: [at, hash])
            return hash
        }
    }
}
