import Foundation
public import Storage

/// Account operations outside HTTP (the `omnifin admin` commands).
public enum Accounts {
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Creates a confirmed account with `role`, after the same checks as registration.
    /// - Throws: ``Invalid`` naming what is wrong (e-mail, password, name, role, e-mail taken).
    public static func createUser(
        in store: any AccountStore, email: String, password: String, displayName: String, role: String, bcryptCost: UInt8 = 12
    ) async throws -> UserRecord {
        let address: String
        let name: String
        do {
            address = try AccountRules.validateEmail(email)
            try AccountRules.validatePassword(password, email: address)
            name = try AccountRules.validateDisplayName(displayName)
        } catch {
            throw Invalid(description: error.message)
        }
        guard ["user", "editor", "admin"].contains(role) else { throw Invalid(description: "role must be user, editor or admin") }
        let now = Date()
        let user = UserRecord(
            id: UUID().uuidString.lowercased(), email: address, displayName: name, passwordHash: try await PasswordHashing.hash(password, cost: bcryptCost),
            role: role, verifiedAt: now, createdAt: now, updatedAt: now)
        do {
            return try await store.createUser(user, firstUserRole: nil)
        } catch let error as StoreError where error.isSameKind(as: .conflict("")) {
            throw Invalid(description: "an account with the e-mail address \(address) already exists")
        }
    }
}
