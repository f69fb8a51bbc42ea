import Accounts
import Foundation
import Hummingbird
import Logging
import Storage

/// The public account routes: who may sign up, register, confirm an address, ask for a new confirmation link, and
/// create the first administrator with the setup token.
///
/// A registration's password becomes valid only through the confirmation link sent with that registration, and
/// only for someone who knows it: the link confirms the address together with the password. Registering an
/// address that is not confirmed yet replaces the pending registration; registering a confirmed address tells its
/// owner by e-mail. All three answer the same, so the answer says nothing about which addresses have accounts.
package struct RegistrationController {
    let accounts: any AccountStore
    let mail: AccountMail
    let audit: AuditTrail
    let analytics: AnalyticsRecorder
    let configuration: ServerConfiguration
    let signup: SignupPolicy
    let setup: AdminSetup
    /// A valid hash (at the configured cost) of nothing anyone knows.
    let decoyHash: String
    let limiter: any RateLimiting

    package struct RegisterRequest: JSONRequestBody {
        var email: String
        var password: String
        var displayName: String
        package enum CodingKeys: String, CodingKey, CaseIterable { case email, password, displayName }
    }

    package struct VerifyRequest: JSONRequestBody {
        var token: String
        var password: String
        package enum CodingKeys: String, CodingKey, CaseIterable { case token, password }
    }

    package struct ResendRequest: JSONRequestBody {
        var email: String
        package enum CodingKeys: String, CodingKey, CaseIterable { case email }
    }

    package struct SetupRequest: JSONRequestBody {
        var token: String
        var email: String
        var password: String
        var displayName: String
        package enum CodingKeys: String, CodingKey, CaseIterable { case token, email, password, displayName }
    }

    struct Pending: ResponseEncodable {
        var status: String
        var email: String
        var message: String
    }

    struct Outcome: ResponseEncodable {
        var status: String
        var email: String
        var message: String
    }

    struct SignupView: ResponseEncodable {
        /// `open`, `domains`, `invite` or `closed`.
        var mode: String
        var domains: [String]?
        /// Whether the server waits for its first administrator (`/setup` with the token from its log).
        var setupPending: Bool
    }

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("signup", use: signupPolicy)
        routes.post("register", use: register)
        routes.post("verify", use: verify)
        routes.post("resend-verification", use: resendVerification)
        routes.post("setup", use: createFirstAdmin)
        return routes
    }

    func signupPolicy(request: Request, context: AppRequestContext) async throws -> SignupView {
        var domains: [String]?
        if case .domains(let list) = signup { domains = list }
        return SignupView(mode: signup.name, domains: domains, setupPending: setup.isPending)
    }

    func register(request: Request, context: AppRequestContext) async throws -> EditedResponse<Pending> {
        let body = try await request.decodeJSON(as: RegisterRequest.self, context: context)
        let email = try AccountRules.validateEmail(body.email)
        guard signup.allowsRegistration(of: email) else {
            switch signup {
            case .domains(let domains):
                throw APIError(
                    .forbidden, code: "signup_domain", "only addresses at \(domains.joined(separator: ", ")) may sign up here; ask an administrator for an invitation",
                    field: "email")
            default:
                throw APIError(.forbidden, code: "signup_closed", "this server does not take registrations; ask an administrator for an invitation")
            }
        }
        try AccountRules.validatePassword(body.password, email: email)
        let name = try AccountRules.validateDisplayName(body.displayName)
        // One registration e-mail per address every 20 s, so nobody can flood an inbox; the per-IP limit of the public
        // routes applies too.
        if let wait = await limiter.take("register-account:" + email, limitPerMinute: configuration.loginAttemptsPerMinute == 0 ? 0 : 3) {
            throw APIError.rateLimited(retryAfter: wait)
        }
        // Hashed in every case, so the time taken does not tell the cases apart either.
        let pendingHash = try await PasswordHashing.hash(body.password, cost: configuration.bcryptCost)
        let now = Date()
        if var existing = try await accounts.user(email: email) {
            if existing.verifiedAt != nil || existing.disabledAt != nil {
                if existing.disabledAt == nil { try await mail.sendAlreadyRegistered(to: existing) }
                await audit.record("user.register_existing", actor: nil, target: "user:\(existing.id)", context: context)
            } else {
                // A pending registration is replaced: the newest password, the newest name, and only the newest link works.
                existing.displayName = name
                existing.passwordHash = pendingHash
                existing.updatedAt = now
                try await accounts.updateUser(existing)
                try await mail.sendVerification(to: existing, pendingPasswordHash: pendingHash, logger: context.logger)
                await audit.record("user.register_replaced", actor: nil, target: "user:\(existing.id)", context: context)
            }
        } else {
            // The row keeps the newest registration's hash only so that signing in early can say "confirm your address
            // first" to someone who knows the password; it becomes the password only through the link.
            let candidate = UserRecord(
                id: UUID().uuidString.lowercased(), email: email, displayName: name, passwordHash: pendingHash, role: "user", createdAt: now,
                updatedAt: now)
            do {
                let user = try await accounts.createUser(candidate, firstUserRole: nil)
                try await mail.sendVerification(to: user, pendingPasswordHash: pendingHash, logger: context.logger)
                await audit.record("user.register", actor: user.id, target: "user:\(user.id)", context: context, detail: ["role": user.role])
                await analytics.record("auth.register", user: user.id)
            } catch let error as StoreError where error.isSameKind(as: .conflict("")) {
                // Two registrations of one address at once: the other one won; this one answers the same.
            }
        }
        return EditedResponse(
            status: .created,
            response: Pending(
                status: "pending", email: email,
                message: "check your e-mail: open the confirmation link within 48 hours and enter your password there, then you are signed in"))
    }

    /// Confirms an address: the link's token and the password chosen with that registration.
    func verify(request: Request, context: AppRequestContext) async throws -> Outcome {
        let body = try await request.decodeJSON(as: VerifyRequest.self, context: context)
        guard !body.token.isEmpty, body.token.utf8.count <= 200 else {
            throw APIError.badRequest("the link lacks its token; open the link from the e-mail", field: "token")
        }
        let hash = Secrets.hash(body.token)
        guard let record = try await accounts.token(hash: hash), record.purpose == .verification, var user = try await accounts.user(id: record.userID)
        else {
            throw APIError(.badRequest, code: "invalid_token", "this confirmation link is not valid; open the newest e-mail, or register again", field: "token")
        }
        if user.verifiedAt != nil {
            return Outcome(status: "already_verified", email: user.email, message: "\(user.email) is already confirmed: sign in")
        }
        if record.revokedAt != nil {
            throw APIError(
                .badRequest, code: "link_replaced", "a newer registration or link replaced this one; open the newest e-mail, or register again",
                field: "token")
        }
        if record.expiresAt <= Date() {
            throw APIError(.badRequest, code: "link_expired", "this confirmation link has expired; register again for a new one", field: "token")
        }
        // The password is guessed against the link at most as often as a login.
        let limit = configuration.loginAttemptsPerMinute
        if let wait = await limiter.retryAfter("verify-token:" + hash, limitPerMinute: limit) { throw APIError.rateLimited(retryAfter: wait) }
        guard let pending = record.pendingPasswordHash, try await PasswordHashing.verify(body.password, hash: pending) else {
            _ = await limiter.take("verify-token:" + hash, limitPerMinute: limit)
            await audit.record("auth.verify_failed", actor: nil, target: "user:\(user.id)", context: context)
            throw APIError(
                .forbidden, code: "wrong_password",
                "this is not the password chosen with this registration; enter that one, or register again to choose another", field: "password")
        }
        let now = Date()
        guard try await accounts.revokeToken(hash: hash, at: now) else {
            // Opened twice at once: the other request confirmed it.
            return Outcome(status: "already_verified", email: user.email, message: "\(user.email) is already confirmed: sign in")
        }
        user.passwordHash = pending
        user.verifiedAt = now
        user.updatedAt = now
        try await accounts.updateUser(user)
        try await accounts.revokeTokens(userID: user.id, purpose: .verification, keeping: nil, at: now)
        await audit.record("user.verify", actor: user.id, target: "user:\(user.id)", context: context)
        return Outcome(status: "verified", email: user.email, message: "\(user.email) is confirmed")
    }

    /// Sends a new confirmation link for the newest pending registration. The answer is the same whether or not the
    /// address has an account; one e-mail per address per minute, and the login limit per IP.
    func resendVerification(request: Request, context: AppRequestContext) async throws -> EditedResponse<[String: String]> {
        let body = try await request.decodeJSON(as: ResendRequest.self, context: context)
        let email = try AccountRules.validateEmail(body.email)
        let limit = configuration.loginAttemptsPerMinute
        if let wait = await limiter.take("resend-ip:" + context.clientAddress, limitPerMinute: limit) { throw APIError.rateLimited(retryAfter: wait) }
        if let wait = await limiter.take("resend-account:" + email, limitPerMinute: limit == 0 ? 0 : 1) { throw APIError.rateLimited(retryAfter: wait) }
        if let user = try await accounts.user(email: email), user.verifiedAt == nil, user.disabledAt == nil {
            // Bound to the newest registration's password, like that registration's own link.
            try await mail.sendVerification(to: user, pendingPasswordHash: user.passwordHash, logger: context.logger)
        }
        return EditedResponse(
            status: .accepted, response: ["status": "queued", "message": "if \(email) has an unconfirmed account, a new link is on its way"])
    }

    /// The first administrator, with the one-time setup token the server printed in its log at start.
    func createFirstAdmin(request: Request, context: AppRequestContext) async throws -> EditedResponse<UserView> {
        let body = try await request.decodeJSON(as: SetupRequest.self, context: context)
        if let wait = await limiter.take("setup-ip:" + context.clientAddress, limitPerMinute: configuration.loginAttemptsPerMinute) {
            throw APIError.rateLimited(retryAfter: wait)
        }
        let email = try AccountRules.validateEmail(body.email)
        try AccountRules.validatePassword(body.password, email: email)
        let name = try AccountRules.validateDisplayName(body.displayName)
        guard setup.claim(body.token) else {
            await audit.record("security.setup_refused", actor: nil, target: nil, context: context)
            throw APIError(
                .forbidden, code: "invalid_setup_token",
                "this setup token is not valid: an administrator exists already, or the token is not the one in the server's log of this start",
                field: "token")
        }
        do {
            let user = try await Accounts.createUser(
                in: accounts, email: email, password: body.password, displayName: name, role: "admin", bcryptCost: configuration.bcryptCost)
            setup.finish()
            await audit.record("user.setup_admin", actor: user.id, target: "user:\(user.id)", context: context)
            context.logger.notice("the first administrator \(user.email) was created with the setup token")
            return EditedResponse(status: .created, response: UserView(user))
        } catch let error as AccountError where error.isEmailTaken {
            setup.release()
            throw APIError(.conflict, code: "email_taken", error.message, field: "email")
        } catch {
            setup.release()
            throw error
        }
    }
}
