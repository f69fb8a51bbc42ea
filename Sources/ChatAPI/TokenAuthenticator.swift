import Foundation
import Hummingbird
import HummingbirdAuth
import Storage

/// Reads `Authorization: Bearer TOKEN`, checks the token's hash in the store (session, not revoked, not
/// expired) and that its user is enabled; the caller then becomes the context's identity.
struct TokenAuthenticator: AuthenticatorMiddleware {
    typealias Context = AppRequestContext
    let accounts: any AccountStore

    func authenticate(request: Request, context: AppRequestContext) async throws -> AuthenticatedUser? {
        guard let token = request.headers.bearer?.token, !token.isEmpty, token.utf8.count <= 200 else { return nil }
        let hash = Secrets.hash(token)
        guard let record = try await accounts.token(hash: hash), record.purpose == .session, record.revokedAt == nil,
            record.expiresAt > Date(), let user = try await accounts.user(id: record.userID), user.disabledAt == nil
        else { return nil }
        return AuthenticatedUser(user: user, tokenHash: hash)
    }
}
