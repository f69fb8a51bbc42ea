import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Storage

/// Reads `Authorization: Bearer TOKEN` (API clients) or the session cookie (web pages), checks the token's hash
/// in the store (session, not revoked, not expired) and that its user is enabled; the caller then becomes the
/// context's identity.
struct TokenAuthenticator: AuthenticatorMiddleware {
    typealias Context = AppRequestContext
    let accounts: any AccountStore
    let sessions: any SessionCache

    func authenticate(request: Request, context: AppRequestContext) async throws -> AuthenticatedUser? {
        let bearer = request.headers.bearer?.token
        let token = bearer ?? request.cookies[SessionCookie.name]?.value
        guard let token, !token.isEmpty, token.utf8.count <= 200 else { return nil }
        let hash = Secrets.hash(token)
        let now = Date()
        if let cached = await sessions.session(tokenHash: hash), cached.tokenExpiresAt > now {
            return AuthenticatedUser(user: cached.user, tokenHash: hash, expiresAt: cached.tokenExpiresAt, viaCookie: bearer == nil)
        }
        guard let record = try await accounts.token(hash: hash), record.purpose == .session, record.revokedAt == nil,
            record.expiresAt > now, let user = try await accounts.user(id: record.userID), user.disabledAt == nil
        else { return nil }
        await sessions.remember(CachedSession(user: user, tokenExpiresAt: record.expiresAt), tokenHash: hash)
        return AuthenticatedUser(user: user, tokenHash: hash, expiresAt: record.expiresAt, viaCookie: bearer == nil)
    }
}

/// Cookie sessions must echo their CSRF token in `X-CSRF-Token` on every unsafe method; bearer tokens cannot be
/// sent by another site, so they need none.
struct CSRFMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let sealer: DataSealer
    static let header = HTTPField.Name(SessionCookie.csrfHeader)!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let caller = context.identity, caller.viaCookie, ![.get, .head, .options].contains(request.method) {
            let expected = SessionCookie.csrfToken(for: caller.tokenHash, sealer: sealer)
            guard let sent = request.headers[Self.header], Self.constantTimeEqual(sent, expected) else {
                throw APIError(
                    .forbidden, code: "csrf_failed",
                    "this cookie session needs its CSRF token in the X-CSRF-Token header (GET /api/auth/session gives it)")
            }
        }
        return try await next(request, context)
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
