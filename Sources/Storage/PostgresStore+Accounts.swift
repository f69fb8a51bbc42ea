public import Foundation
import PostgresNIO

extension PostgresStore: AccountStore {
    private typealias UserColumns = (String, String, String, String, String, String, Date?, Date?, Date, Date)

    private func users(_ statement: PostgresQuery, operation: String = #function) async throws -> [UserRecord] {
        do {
            var users: [UserRecord] = []
            for try await c in try await query(statement, operation: operation).decode(UserColumns.self) {
                users.append(UserRecord(
                    id: c.0, email: c.1, displayName: c.2, passwordHash: c.3, role: c.4,
                    groups: try JSONColumn.decode([String].self, c.5, column: "users.groups"), verifiedAt: c.6, disabledAt: c.7,
                    createdAt: c.8, updatedAt: c.9))
            }
            return users
        } catch {
            throw PostgresStore.storeError(error)
        }
    }

    public func createUser(_ user: UserRecord, firstUserRole: String?) async throws -> UserRecord {
        let logger = logger
        return try await transaction { connection in
            var user = user
            // Serialises concurrent first registrations.
            try await connection.query("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE", logger: logger)
            var count = 0
            for try await n in try await connection.query("SELECT COUNT(*) FROM users", logger: logger).decode(Int.self) { count = n }
            if let firstUserRole, count == 0 { user.role = firstUserRole }
            for try await _ in try await connection.query("SELECT 1 FROM users WHERE email = \(user.email)", logger: logger).decode(Int.self) {
                throw StoreError.conflict("an account with this e-mail address already exists")
            }
            try await connection.query(
                """
                INSERT INTO users (id, email, display_name, password_hash, role, groups, verified_at, disabled_at, created_at, updated_at)
                VALUES (\(user.id), \(user.email), \(user.displayName), \(user.passwordHash), \(user.role), \(JSONColumn.encode(user.groups)),
                        \(user.verifiedAt), \(user.disabledAt), \(user.createdAt), \(user.updatedAt))
                """, logger: logger)
            return user
        }
    }

    public func user(id: String) async throws -> UserRecord? {
        try await users(
            """
            SELECT id, email, display_name, password_hash, role, groups, verified_at, disabled_at, created_at, updated_at
            FROM users WHERE id = \(id)
            """
        ).first
    }

    public func user(email: String) async throws -> UserRecord? {
        try await users(
            """
            SELECT id, email, display_name, password_hash, role, groups, verified_at, disabled_at, created_at, updated_at
            FROM users WHERE email = \(email)
            """
        ).first
    }

    public func updateUser(_ user: UserRecord) async throws {
        do {
            try await query(
                """
                UPDATE users SET email = \(user.email), display_name = \(user.displayName), password_hash = \(user.passwordHash),
                  role = \(user.role), groups = \(JSONColumn.encode(user.groups)), verified_at = \(user.verifiedAt),
                  disabled_at = \(user.disabledAt), updated_at = \(user.updatedAt)
                WHERE id = \(user.id)
                """)
        } catch {
            throw PostgresStore.storeError(error)
        }
    }

    public func userCount() async throws -> Int {
        do {
            for try await n in try await query("SELECT COUNT(*) FROM users").decode(Int.self) { return n }
            return 0
        } catch {
            throw PostgresStore.storeError(error)
        }
    }

    public func insertToken(_ token: AuthTokenRecord) async throws {
        do {
            try await query(
                """
                INSERT INTO auth_tokens (token_hash, user_id, purpose, csrf_hash, pending_password_hash, created_at, expires_at, revoked_at, key_id, name, scope)
                VALUES (\(token.tokenHash), \(token.userID), \(token.purpose.rawValue), \(token.csrfHash), \(token.pendingPasswordHash),
                        \(token.createdAt), \(token.expiresAt), \(token.revokedAt), \(token.keyID), \(token.name), \(token.scope?.rawValue))
                """)
        } catch {
            throw PostgresStore.storeError(error)
        }
    }

    public func token(hash: String) async throws -> AuthTokenRecord? {
        do {
            return try await tokens(
                query(
                    """
                    SELECT token_hash, user_id, purpose, csrf_hash, pending_password_hash, created_at, expires_at, revoked_at, key_id, name, scope
                    FROM auth_tokens WHERE token_hash = \(hash)
                    """)
            ).first
        } catch {
            throw PostgresStore.storeError(error)
        }
    }

    @discardableResult
    public func revokeToken(hash: String, at: Date) async throws -> Bool {
        do {
            let rows = try await query(
                "UPDATE auth_tokens SET revoked_at = \(at) WHERE token_hash = \(hash) AND revoked_at IS NULL RETURNING token_hash")
            for try await _ in rows.decode(String.self) { return true }
            return false
        } catch {
            throw PostgresStore.storeError(error)
        }
    }

    public func revokeTokens(userID: String, purpose: AuthTokenRecord.Purpose, keeping: String?, at: Date) async throws {
        do {
            try await query(
                """
                UPDATE auth_tokens SET revoked_at = \(at)
                WHERE user_id = \(userID) AND purpose = \(purpose.rawValue) AND revoked_at IS NULL AND token_hash <> \(keeping ?? "")
                """)
        } catch {
            throw PostgresStore.storeError(error)
        }
    }

    public func apiKeys(userID: String) async throws -> [AuthTokenRecord] {
        do {
            return try await tokens(
                query(
                    """
                    SELECT token_hash, user_id, purpose, csrf_hash, pending_password_hash, created_at, expires_at, revoked_at, key_id, name, scope
                    FROM auth_tokens WHERE user_id = \(userID) AND purpose = \(AuthTokenRecord.Purpose.apiKey.rawValue) ORDER BY created_at DESC, key_id
                    """))
        } catch {
            throw PostgresStore.storeError(error)
        }
    }

    public func revokeAPIKey(userID: String, keyID: String, at: Date) async throws -> String? {
        do {
            let rows = try await query(
                """
                UPDATE auth_tokens SET revoked_at = \(at)
                WHERE user_id = \(userID) AND key_id = \(keyID) AND purpose = \(AuthTokenRecord.Purpose.apiKey.rawValue) AND revoked_at IS NULL
                RETURNING token_hash
                """)
            for try await hash in rows.decode(String.self) { return hash }
            return nil
        } catch {
            throw PostgresStore.storeError(error)
        }
    }

    /// Token rows as selected above, in order.
    private func tokens(_ rows: PostgresRowSequence) async throws -> [AuthTokenRecord] {
        var tokens: [AuthTokenRecord] = []
        for try await c in rows.decode((String, String, String, String?, String?, Date, Date, Date?, String?, String?, String?).self) {
            guard let purpose = AuthTokenRecord.Purpose(rawValue: c.2) else { throw StoreError.corruptRow("token with unknown purpose '\(c.2)'") }
            tokens.append(
                AuthTokenRecord(
                    tokenHash: c.0, userID: c.1, purpose: purpose, csrfHash: c.3, pendingPasswordHash: c.4, createdAt: c.5, expiresAt: c.6, revokedAt: c.7,
                    keyID: c.8, name: c.9, scope: c.10.flatMap(AuthTokenRecord.Scope.init(rawValue:))))
        }
        return tokens
    }
}
