public import Foundation
public import Hummingbird
public import HummingbirdAuth
import Logging
import NIOCore
public import Retrieval
public import Storage

/// Who is calling: the user behind a valid session token.
public struct AuthenticatedUser: Sendable {
    public var user: UserRecord
    public var tokenHash: String
    public var expiresAt: Date
    /// The token came in the session cookie (a web page), so unsafe requests must carry the CSRF token.
    public var viaCookie: Bool
    /// The personal API key the caller used (`nil` for a signed-in session).
    public var apiKey: APIKey?

    public struct APIKey: Sendable {
        public var id: String
        public var scope: AuthTokenRecord.Scope
    }

    public init(user: UserRecord, tokenHash: String, expiresAt: Date, viaCookie: Bool, apiKey: APIKey? = nil) {
        self.user = user
        self.tokenHash = tokenHash
        self.expiresAt = expiresAt
        self.viaCookie = viaCookie
        self.apiKey = apiKey
    }

    /// Whether the caller may ask questions: any session, or an API key with the `chat` scope.
    public var mayChat: Bool { apiKey.map { $0.scope == .chat } ?? true }
    public var rights: AccessRights {
        AccessRights(userID: user.id, role: AccessRights.Role(rawValue: user.role) ?? .user, groups: Set(user.groups))
    }
}

/// The request context of every route: the caller (once authenticated) and snake_case JSON both ways.
public struct AppRequestContext: AuthRequestContext, RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: AuthenticatedUser?
    /// The TCP peer's IP address (a proxy in front is the peer).
    public let peerAddress: String
    /// The client's IP address: the peer, or behind a trusted proxy the address it forwarded (``ClientAddressMiddleware``).
    public internal(set) var clientAddress: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        identity = nil
        peerAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
        clientAddress = peerAddress
    }

    /// Documents can be large; everything else is far smaller. 12 MB leaves room for a 10 MB body in JSON.
    public var maxUploadSize: Int { 12 * 1024 * 1024 }

    /// snake_case keys and ISO 8601 times, as every request body is read.
    public var requestDecoder: JSONDecoder { StoredJSON.decoder }

    /// How every JSON response is written: the way values are stored (``StoredJSON``).
    public var responseEncoder: JSONEncoder { StoredJSON.encoder }

    /// The caller, or 401.
    func caller() throws -> AuthenticatedUser {
        guard let identity else { throw APIError.unauthorized }
        return identity
    }

    /// The caller when their role is one of `roles`, else 403 (401 without a token).
    func caller(in roles: Set<AccessRights.Role>) throws -> AuthenticatedUser {
        let caller = try caller()
        guard roles.contains(caller.rights.role) else {
            throw APIError.forbidden("this needs the role \(roles.map(\.rawValue).sorted().joined(separator: " or ")); you are \(caller.user.role)")
        }
        return caller
    }
}
