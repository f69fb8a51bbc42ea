import Accounts
import Foundation
import Hummingbird
import Storage

/// `POST /api/auth/password-reset` and `…/confirm`: a way back in by e-mail.
///
/// Asking always answers 202 (whether or not the address has an account) and is limited per address and per IP.
/// The e-mailed link works once, for an hour; confirming it sets the new password, confirms the address (the link
/// reached its mailbox) and signs out every session of the account. Invitations use the same confirmation with
/// their own link.
package struct PasswordResetController {
    let accounts: any AccountStore
    let mail: AccountMail
    let audit: AuditTrail
    let configuration: ServerConfiguration
    let limiter: any RateLimiting

    package struct ResetRequest: JSONRequestBody {
        var email: String
        package enum CodingKeys: String, CodingKey, CaseIterable { case email }
    }

    package struct ConfirmRequest: JSONRequestBody {
        var token: String
        var password: String
        package enum CodingKeys: String, CodingKey, CaseIterable { case token, password }
    }

    struct Confirmed: ResponseEncodable {
        var status: String
        var email: String
        var message: String
    }

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("password-reset", use: requestReset)
        routes.post("password-reset/confirm", use: confirm)
        return routes
    }

    func requestReset(request: Request, context: AppRequestContext) async throws -> EditedResponse<[String: String]> {
        let body = try await request.decodeJSON(as: ResetRequest.self, context: context)
        let email = try AccountRules.validateEmail(body.email)
        let limit = configuration.loginAttemptsPerMinute
        if let wait = await limiter.take("reset-ip:" + context.clientAddress, limitPerMinute: limit) { throw APIError.rateLimited(retryAfter: wait) }
        if let wait = await limiter.take("reset-account:" + email, limitPerMinute: limit == 0 ? 0 : 1) { throw APIError.rateLimited(retryAfter: wait) }
        if let user = try await accounts.user(email: email), user.disabledAt == nil {
            try await mail.sendPasswordReset(to: user, logger: context.logger)
            await audit.record("user.password_reset_requested", actor: nil, target: "user:\(user.id)", context: context)
        }
        return EditedResponse(
            status: .accepted,
            response: ["status": "queued", "message": "if \(email) has an account, a link to choose a new password is on its way (valid one hour)"])
    }

    func confirm(request: Request, context: AppRequestContext) async throws -> Confirmed {
        let body = try await request.decodeJSON(as: ConfirmRequest.self, context: context)
        guard !body.token.isEmpty, body.token.utf8.count <= 200 else {
            throw APIError.badRequest("the link lacks its token; open the link from the e-mail", field: "token")
        }
        let hash = Secrets.hash(body.token)
        let invalid = APIError(
            .badRequest, code: "invalid_token", "this link is not valid, was used already or has expired; ask for a new one", field: "token")
        guard let record = try await accounts.token(hash: hash), record.purpose == .passwordReset || record.purpose == .invitation,
            record.revokedAt == nil, record.expiresAt > Date(), var user = try await accounts.user(id: record.userID), user.disabledAt == nil
        else { throw invalid }
        try AccountRules.validatePassword(body.password, email: user.email)
        let newHash = try await PasswordHashing.hash(body.password, cost: configuration.bcryptCost)
        let now = Date()
        guard try await accounts.revokeToken(hash: hash, at: now) else { throw invalid }
        user.passwordHash = newHash
        if user.verifiedAt == nil { user.verifiedAt = now }
        user.updatedAt = now
        try await accounts.updateUser(user)
        try await accounts.revokeSessions(userID: user.id, keeping: nil, at: now)
        try await accounts.revokeTokens(userID: user.id, purpose: .passwordReset, keeping: nil, at: now)
        try await accounts.revokeTokens(userID: user.id, purpose: .invitation, keeping: nil, at: now)
        // A pending registration's links would otherwise still confirm with the old pending password.
        try await accounts.revokeTokens(userID: user.id, purpose: .verification, keeping: nil, at: now)
        let invitation = record.purpose == .invitation
        await audit.record(invitation ? "user.invitation_accepted" : "user.password_reset", actor: user.id, target: "user:\(user.id)", context: context)
        if !invitation { try await mail.sendPasswordChanged(to: user) }
        return Confirmed(
            status: "password_changed", email: user.email,
            message: invitation ? "your password is set: sign in" : "your password is changed and every session was signed out: sign in")
    }
}
