import Accounts
import Foundation
import Hummingbird
import HummingbirdBcrypt
import Logging
import NIOPosix
import Retrieval
import Storage

/// `/api/auth/*` sessions: login, logout, the session, the profile. Registration is ``RegistrationController``'s,
/// password resets ``PasswordResetController``'s.
package struct AuthController {
    let accounts: any AccountStore
    let mail: AccountMail
    let audit: AuditTrail
    let analytics: AnalyticsRecorder
    let sealer: DataSealer
    let configuration: ServerConfiguration
    /// A valid hash (at the configured cost) of nothing anyone knows, checked when the e-mail address is unknown.
    let decoyHash: String
    let limiter: any RateLimiting

    package struct ProfileUpdate: JSONRequestBody {
        var displayName: String?
        var currentPassword: String?
        var newPassword: String?
        /// Never accepted: present only to answer 403 instead of a plain unknown-field 400.
        var role: String?
        package enum CodingKeys: String, CodingKey, CaseIterable { case displayName, currentPassword, newPassword, role }
    }

    package struct LoginRequest: JSONRequestBody {
        var email: String
        var password: String
        /// Web pages ask for an HttpOnly cookie (and get a CSRF token); API clients use the bearer token.
        var useCookie: Bool?
        package enum CodingKeys: String, CodingKey, CaseIterable { case email, password, useCookie }
    }

    struct SessionView: ResponseEncodable {
        var user: UserView
        var expiresAt: Date
        /// Only for cookie sessions: send it as `X-CSRF-Token` on every POST, PUT, PATCH and DELETE.
        var csrfToken: String?
    }

    struct LoginResponse: Encodable {
        /// The bearer token; absent for a cookie session, whose token stays in the HttpOnly cookie.
        var token: String?
        var expiresAt: Date
        var user: UserView
        var csrfToken: String?
    }

    var publicEndpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("login", use: login)
        return routes
    }

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("logout", use: logout)
        routes.get("profile", use: profile)
        routes.put("profile", use: updateProfile)
        routes.get("session", use: session)
        return routes
    }

    func login(request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await request.decodeJSON(as: LoginRequest.self, context: context)
        let email = body.email.trimmingCharacters(in: .whitespaces).lowercased()
        guard !email.isEmpty, !body.password.isEmpty, body.password.utf8.count <= 1_000 else {
            throw APIError.badRequest(
                "email and password are required (a password has at most 1,000 bytes)", field: email.isEmpty ? "email" : "password")
        }
        // Repeated failures from one address, or against one account, wait before they may try again.
        let limit = configuration.loginAttemptsPerMinute
        let keys = ["login-ip:" + context.clientAddress, "login-account:" + email]
        var waits: [Int] = []
        for key in keys { if let wait = await limiter.retryAfter(key, limitPerMinute: limit) { waits.append(wait) } }
        if let wait = waits.max() {
            throw APIError.rateLimited(retryAfter: wait)
        }
        let user = try await accounts.user(email: email)
        // An unknown account still costs one bcrypt check, so timing does not tell which accounts exist.
        let valid = try await PasswordHashing.verify(body.password, hash: user?.passwordHash ?? decoyHash)
        guard let user, valid else {
            for key in keys { _ = await limiter.take(key, limitPerMinute: limit) }
            await audit.record("auth.login_failed", actor: nil, target: user.map { "user:\($0.id)" }, context: context, detail: ["email": email])
            await analytics.record("auth.login_failed", user: user?.id)
            throw APIError(.unauthorized, code: "invalid_credentials", "the e-mail address or the password is wrong")
        }
        guard user.disabledAt == nil else { throw APIError(.forbidden, code: "account_disabled", "this account is disabled; ask an administrator") }
        guard user.verifiedAt != nil else {
            throw APIError(.forbidden, code: "email_not_verified", "confirm your e-mail address first: open the link we sent to \(user.email)")
        }
        let (token, hash) = Secrets.newToken()
        let now = Date()
        let expires = now.addingTimeInterval(configuration.sessionLifetime)
        try await accounts.insertToken(AuthTokenRecord(tokenHash: hash, userID: user.id, purpose: .session, createdAt: now, expiresAt: expires))
        await analytics.record("auth.login", user: user.id)
        let cookie = body.useCookie == true
        var response = try context.responseEncoder.encode(
            LoginResponse(
                token: cookie ? nil : token, expiresAt: expires, user: UserView(user),
                csrfToken: cookie ? SessionCookie.csrfToken(for: hash, sealer: sealer) : nil),
            from: request, context: context)
        if cookie {
            response.headers[values: .setCookie].append(
                SessionCookie.set(token, lifetime: configuration.sessionLifetime, secure: configuration.publicURL.hasPrefix("https:")))
        }
        return response
    }

    /// The caller's session: who, until when, and the CSRF token a cookie session needs (pages call this after a reload).
    func session(request: Request, context: AppRequestContext) async throws -> SessionView {
        let caller = try context.caller()
        return SessionView(
            user: UserView(caller.user), expiresAt: caller.expiresAt,
            csrfToken: caller.viaCookie ? SessionCookie.csrfToken(for: caller.tokenHash, sealer: sealer) : nil)
    }

    func logout(request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.caller()
        try await accounts.revokeToken(hash: caller.tokenHash, at: Date())
        var response = Response(status: .noContent)
        if caller.viaCookie { response.headers[values: .setCookie].append(SessionCookie.clear()) }
        return response
    }

    func profile(request: Request, context: AppRequestContext) async throws -> UserView {
        UserView(try context.caller().user)
    }

    /// Changes the display name and/or the password; a new password needs the current one and signs out
    /// every other session of the account.
    func updateProfile(request: Request, context: AppRequestContext) async throws -> UserView {
        let caller = try context.caller()
        let body = try await request.decodeJSON(as: ProfileUpdate.self, context: context)
        if body.role != nil {
            throw APIError(.forbidden, code: "own_role", "you cannot change your own role; an administrator can", field: "role")
        }
        guard body.displayName != nil || body.newPassword != nil else {
            throw APIError.badRequest("send display_name and/or new_password (with current_password)")
        }
        var user = caller.user
        if let name = body.displayName { user.displayName = try AccountRules.validateDisplayName(name) }
        if let newPassword = body.newPassword {
            guard let current = body.currentPassword, !current.isEmpty else {
                throw APIError.badRequest("changing the password needs current_password", field: "current_password")
            }
            guard try await PasswordHashing.verify(current, hash: user.passwordHash) else {
                throw APIError(.forbidden, code: "wrong_password", "current_password is not your password", field: "current_password")
            }
            try AccountRules.validatePassword(newPassword, email: user.email)
            user.passwordHash = try await PasswordHashing.hash(newPassword, cost: configuration.bcryptCost)
        }
        user.updatedAt = Date()
        try await accounts.updateUser(user)
        if body.newPassword != nil {
            try await accounts.revokeSessions(userID: user.id, keeping: caller.tokenHash, at: Date())
            await audit.record("user.password_change", actor: user.id, target: "user:\(user.id)", context: context)
            try await mail.sendPasswordChanged(to: user)
        }
        return UserView(user)
    }
}
