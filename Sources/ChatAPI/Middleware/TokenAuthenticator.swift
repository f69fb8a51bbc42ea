import Accounts
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Storage
import Synchronization

/// Reads `Authorization: Bearer TOKEN` (API clients) or the session cookie (web pages), checks the token's hash
/// in the store (session, not revoked, not expired) and that its user is enabled; the caller then becomes the
/// context's identity.
struct TokenAuthenticator: AuthenticatorMiddleware {
    typealias Context = AppRequestContext
    let accounts: any AccountStore
    let sessions: any SessionCache
    /// Store look-ups in progress by token hash: when a busy token's cached session expires, its concurrent requests
    /// wait for one look-up instead of each querying the store and rewriting the cache.
    let lookups = SingleFlight<String, CachedSession?>()

    func authenticate(request: Request, context: AppRequestContext) async throws -> AuthenticatedUser? {
        let bearer = request.headers.bearer?.token
        let token = bearer ?? request.cookies[SessionCookie.name]?.value
        guard let token, !token.isEmpty, token.utf8.count <= 200 else { return nil }
        let hash = Secrets.hash(token)
        guard let session = try await session(tokenHash: hash) else { return nil }
        var key: AuthenticatedUser.APIKey?
        if let id = session.apiKeyID {
            // A personal API key opens the client endpoints only, never the account (its keys, password, sessions)
            // nor the web app's routes.
            guard bearer != nil, Self.acceptsAPIKeys(request.uri.path) else { return nil }
            key = AuthenticatedUser.APIKey(id: id, scope: session.apiKeyScope.flatMap(AuthTokenRecord.Scope.init(rawValue:)) ?? .read)
        }
        return AuthenticatedUser(user: session.user, tokenHash: hash, expiresAt: session.tokenExpiresAt, viaCookie: bearer == nil, apiKey: key)
    }

    /// The valid session of a token: from the cache, else from the store (then cached).
    func session(tokenHash hash: String) async throws -> CachedSession? {
        if let cached = await sessions.session(tokenHash: hash), cached.tokenExpiresAt > Date() { return cached }
        return try await lookups.run(hash) { [accounts, sessions] in
            guard let session = try await Self.stored(hash, accounts: accounts) else { return nil }
            await sessions.remember(session, tokenHash: hash)
            // A revocation or user change between the read and the caching has dropped its cache entries before this
            // entry existed: read again, and if anything moved, drop the entry and go by what the store says now.
            let again = try await Self.stored(hash, accounts: accounts)
            if again != session {
                await sessions.forget(tokenHash: hash)
                return again
            }
            return session
        }
    }

    /// The paths a personal API key is good for: the OpenAI-compatible API and the MCP server.
    static func acceptsAPIKeys(_ path: String) -> Bool {
        path.hasPrefix("/v1/") || path == "/mcp"
    }

    /// The token's session as the store has it: a session token or API key, not revoked or expired, of an enabled user.
    private static func stored(_ hash: String, accounts: any AccountStore) async throws -> CachedSession? {
        guard let record = try await accounts.token(hash: hash), record.purpose == .session || record.purpose == .apiKey, record.revokedAt == nil,
            record.expiresAt > Date(), let user = try await accounts.user(id: record.userID), user.disabledAt == nil
        else { return nil }
        guard record.purpose == .apiKey else { return CachedSession(user: user, tokenExpiresAt: record.expiresAt) }
        return CachedSession(user: user, tokenExpiresAt: record.expiresAt, apiKeyID: record.keyID ?? "", apiKeyScope: (record.scope ?? .read).rawValue)
    }
}
