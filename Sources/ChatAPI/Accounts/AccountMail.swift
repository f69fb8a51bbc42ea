import Accounts
import Foundation
import Logging
import Storage

/// The e-mails that carry single-use links (confirmation, password reset, invitation) and the notices about an
/// account. A link's token is stored only as its hash; the e-mail is the one place the token exists.
struct AccountMail {
    let accounts: any AccountStore
    let mailer: Mailer
    let configuration: ServerConfiguration

    /// How long each kind of link works.
    static let verificationLifetime: TimeInterval = 48 * 3600
    static let resetLifetime: TimeInterval = 3600
    static let invitationLifetime: TimeInterval = 7 * 24 * 3600

    /// A confirmation link bound to `pendingPasswordHash`, the password chosen with this registration: the link
    /// confirms the address only together with that password. Older confirmation links of the account stop working.
    func sendVerification(to user: UserRecord, pendingPasswordHash: String, logger: Logger) async throws {
        let token = try await issue(.verification, for: user, lifetime: Self.verificationLifetime, pendingPasswordHash: pendingPasswordHash)
        let link = configuration.publicURL + "/verify?token=" + token
        try await mailer.send(
            kind: "verification", to: user.email, subject: "Confirm your Omnifin account",
            body: """
                Hello \(user.displayName),

                confirm your e-mail address by opening this link within 48 hours and entering the password you chose:

                \(link)

                If you did not register, ignore this e-mail: without the password nobody can use the link.
                """)
        logger.info("confirmation link for \(user.email): \(link)")
    }

    /// A link that sets a new password (valid one hour, once); older reset links of the account stop working.
    func sendPasswordReset(to user: UserRecord, logger: Logger) async throws {
        let token = try await issue(.passwordReset, for: user, lifetime: Self.resetLifetime)
        let link = configuration.publicURL + "/reset-password?token=" + token
        try await mailer.send(
            kind: "password_reset", to: user.email, subject: "Reset your Omnifin password",
            body: """
                Hello \(user.displayName),

                someone asked to reset the password of your Omnifin account. To choose a new password, open this link
                within one hour (it works once):

                \(link)

                If it was not you, ignore this e-mail: your password stays as it is.
                """)
        logger.info("password reset link for \(user.email) sent")
    }

    /// An administrator's invitation: a link to choose a password (valid seven days, once).
    func sendInvitation(to user: UserRecord, from admin: UserRecord, logger: Logger) async throws {
        let token = try await issue(.invitation, for: user, lifetime: Self.invitationLifetime)
        let link = configuration.publicURL + "/reset-password?token=" + token + "&invite=1"
        try await mailer.send(
            kind: "invitation", to: user.email, subject: "You are invited to Omnifin",
            body: """
                Hello \(user.displayName),

                \(admin.displayName) invited you to Omnifin, the finance team's knowledge search, with the role \(user.role).
                Choose your password within seven days by opening this link:

                \(link)
                """)
        logger.info("invitation for \(user.email) sent")
    }

    /// Tells the owner of a confirmed address that someone tried to register it (instead of telling the person who
    /// registered that the address has an account).
    func sendAlreadyRegistered(to user: UserRecord) async throws {
        try await mailer.send(
            kind: "already_registered", to: user.email, subject: "Someone tried to register your address at Omnifin",
            body: """
                Hello \(user.displayName),

                someone tried to create an Omnifin account with \(user.email), which already has one. If it was you, sign
                in at \(configuration.publicURL)/, or reset your password at \(configuration.publicURL)/#/forgot.
                If it was not you, nothing changed and you need not do anything.
                """)
    }

    /// Tells the owner that their password changed.
    func sendPasswordChanged(to user: UserRecord) async throws {
        try await mailer.send(
            kind: "password_changed", to: user.email, subject: "Your Omnifin password was changed",
            body: """
                Hello \(user.displayName),

                the password of your Omnifin account was changed, and the sessions signed in with the old one were
                signed out. If it was not you, reset it at \(configuration.publicURL)/#/forgot and tell your administrator.
                """)
    }

    private func issue(_ purpose: AuthTokenRecord.Purpose, for user: UserRecord, lifetime: TimeInterval, pendingPasswordHash: String? = nil)
        async throws -> String
    {
        let (token, hash) = Secrets.newToken()
        let now = Date()
        try await accounts.revokeTokens(userID: user.id, purpose: purpose, keeping: nil, at: now)
        try await accounts.insertToken(
            AuthTokenRecord(
                tokenHash: hash, userID: user.id, purpose: purpose, pendingPasswordHash: pendingPasswordHash, createdAt: now,
                expiresAt: now.addingTimeInterval(lifetime)))
        return token
    }
}
