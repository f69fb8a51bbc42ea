import Foundation
public import Storage

/// Account operations outside HTTP (the `omnifin admin` commands, the first administrator's setup).
public enum Accounts {
    /// Creates a confirmed account with `role`, after the same checks as registration.
    /// - Throws: ``AccountError`` naming what is wrong (e-mail, password, name, role, e-mail taken); store errors.
    public static func createUser(
        in store: any AccountStore, email: String, password: String, displayName: String, role: String, bcryptCost: UInt8 = 12
    ) async throws -> UserRecord {
        let address = try AccountRules.validateEmail(email)
        try AccountRules.validatePassword(password, email: address)
        let name = try AccountRules.validateDisplayName(displayName)
        guard ["user", "editor", "admin"].contains(role) else { throw AccountError.invalid("role must be user, editor or admin", field: "role") }
        let now = Date()
        let user = UserRecord(
            id: UUID().uuidString.lowercased(), email: address, displayName: name, passwordHash: try await PasswordHashing.hash(password, cost: bcryptCost),
            role: role, verifiedAt: now, createdAt: now, updatedAt: now)
        do {
            return try await store.createUser(user, firstUserRole: nil)
        } catch let error as StoreError where error.isSameKind(as: .conflict("")) {
            throw AccountError.emailTaken(address)
        }
    }
}
