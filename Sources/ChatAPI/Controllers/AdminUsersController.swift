import Accounts
import Foundation
import Hummingbird
import Retrieval
import Storage

/// `/api/admin/users`: list, create, update and delete accounts (admins only). Every change is audited with
/// its before and after, and the affected user is told by e-mail.
package struct AdminUsersController {
    let accounts: any AccountStore
    let audit: AuditTrail
    let mailer: Mailer
    let mail: AccountMail
    let configuration: ServerConfiguration
    let signup: SignupPolicy

    struct UserList: ResponseEncodable {
        var users: [UserView]
        var total: Int
        var limit: Int
        var offset: Int
    }

    package struct CreateRequest: JSONRequestBody {
        var email: String
        /// Without a password the account is an invitation: the user chooses one through the e-mailed link.
        var password: String?
        var displayName: String
        var role: String?
        var groups: [String]?
        /// Accounts created with a password are confirmed unless this is false (then a confirmation e-mail goes out).
        var verified: Bool?
        package enum CodingKeys: String, CodingKey, CaseIterable { case email, password, displayName, role, groups, verified }
    }

    /// Passwords are not among the fields: an administrator never sets or learns a user's password (the user resets
    /// it by e-mail), so `password` is an unknown field here (400), never accepted and ignored.
    package struct UpdateRequest: JSONRequestBody {
        var role: String?
        var disabled: Bool?
        var displayName: String?
        var groups: [String]?
        package enum CodingKeys: String, CodingKey, CaseIterable { case role, disabled, displayName, groups }
    }

    struct Change: Encodable, Sendable {
        var before: UserView?
        var after: UserView?
    }

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get(use: list)
        routes.post(use: create)
        routes.get(":id", use: show)
        routes.put(":id", use: update)
        routes.delete(":id", use: delete)
        return routes
    }

    static func role(_ raw: String, field: String = "role") throws -> String {
        guard AccessRights.Role(rawValue: raw) != nil else { throw APIError.badRequest("role must be user, editor or admin", field: field) }
        return raw
    }

    static func groups(_ raw: [String]) throws -> [String] {
        guard raw.count <= 50 else { throw APIError.badRequest("at most 50 groups", field: "groups") }
        return try Set(raw).sorted().map { group in
            guard (1...64).contains(group.count), group.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                throw APIError.badRequest("group '\(group)' must be 1–64 letters, digits, '-', '_' or '.'", field: "groups")
            }
            return group
        }
    }

    func list(request: Request, context: AppRequestContext) async throws -> UserList {
        _ = try context.caller(in: [.admin])
        let query = request.uri.formParameters
        var filter = UserQuery()
        filter.limit = try QueryParameter.integer(query, "limit", default: 50, range: 1...200)
        filter.offset = try QueryParameter.integer(query, "offset", default: 0, range: 0...1_000_000)
        if let search = query.get("q"), !search.isEmpty {
            guard search.count <= 200 else { throw APIError.badRequest("q is at most 200 characters", field: "q") }
            filter.search = search
        }
        if let role = query.get("role"), !role.isEmpty { filter.role = try Self.role(role) }
        if let status = query.get("status"), !status.isEmpty {
            guard let value = UserQuery.Status(rawValue: status) else {
                throw APIError.badRequest("status must be active, unverified or disabled", field: "status")
            }
            filter.status = value
        }
        let page = try await accounts.users(matching: filter)
        return UserList(users: page.users.map(UserView.init), total: page.total, limit: filter.limit, offset: filter.offset)
    }

    func show(request: Request, context: AppRequestContext) async throws -> UserView {
        _ = try context.caller(in: [.admin])
        return UserView(try await user(context))
    }

    /// With `password`: a confirmed account (or one that confirms its address first with `verified: false`). Without:
    /// an invitation, whose link lets the user choose a password within seven days.
    func create(request: Request, context: AppRequestContext) async throws -> EditedResponse<UserView> {
        let admin = try context.caller(in: [.admin])
        let body = try await request.decodeJSON(as: CreateRequest.self, context: context)
        guard signup.allowsAdminCreatedAccounts else {
            throw APIError(.forbidden, code: "accounts_closed", "OMNIFIN_SIGNUP is closed: only the operator adds accounts, with omnifin admin create-user")
        }
        let email = try AccountRules.validateEmail(body.email)
        if let password = body.password { try AccountRules.validatePassword(password, email: email) }
        let name = try AccountRules.validateDisplayName(body.displayName)
        let role = try Self.role(body.role ?? "user")
        let groups = try Self.groups(body.groups ?? [])
        let now = Date()
        let invitation = body.password == nil
        if invitation, body.verified != nil {
            throw APIError.badRequest("an invitation (no password) confirms its address when the link is used; leave out verified", field: "verified")
        }
        let verified = !invitation && body.verified ?? true
        // An invitation's account has a password nobody knows until the invitee chooses one.
        let hash = try await PasswordHashing.hash(body.password ?? UUID().uuidString + UUID().uuidString, cost: configuration.bcryptCost)
        let candidate = UserRecord(
            id: UUID().uuidString.lowercased(), email: email, displayName: name, passwordHash: hash, role: role, groups: groups,
            verifiedAt: verified ? now : nil, createdAt: now, updatedAt: now)
        let user: UserRecord
        do {
            user = try await accounts.createUser(candidate, firstUserRole: nil)
        } catch let error as StoreError where error.isSameKind(as: .conflict("")) {
            throw APIError(.conflict, code: "email_taken", "an account with this e-mail address already exists", field: "email")
        }
        await audit.record(
            invitation ? "user.invite" : "user.create", actor: admin.user.id, target: "user:\(user.id)", context: context, detail: Change(after: UserView(user)))
        if invitation {
            try await mail.sendInvitation(to: user, from: admin.user, logger: context.logger)
        } else {
            try await mailer.send(
                kind: "account_created", to: user.email, subject: "An Omnifin account was created for you",
                body: """
                    Hello \(user.displayName),

                    an administrator created an Omnifin account for \(user.email) with the role \(user.role).
                    Sign in at \(configuration.publicURL)/ with the password they gave you, and change it in your profile.
                    """)
            if !verified { try await mail.sendVerification(to: user, pendingPasswordHash: hash, logger: context.logger) }
        }
        return EditedResponse(status: .created, response: UserView(user))
    }

    func update(request: Request, context: AppRequestContext) async throws -> UserView {
        let admin = try context.caller(in: [.admin])
        let body = try await request.decodeJSON(as: UpdateRequest.self, context: context)
        let before = try await user(context)
        var after = before
        if let role = body.role {
            after.role = try Self.role(role)
            // Admins cannot change their own role: the only way up is another admin, and the last admin cannot step down by accident.
            if before.id == admin.user.id && after.role != before.role {
                throw APIError(.forbidden, code: "own_role", "you cannot change your own role; ask another administrator")
            }
        }
        if let disabled = body.disabled {
            if disabled && before.id == admin.user.id {
                throw APIError(.forbidden, code: "own_account", "you cannot disable your own account")
            }
            after.disabledAt = disabled ? (before.disabledAt ?? Date()) : nil
        }
        if let name = body.displayName { after.displayName = try AccountRules.validateDisplayName(name) }
        if let groups = body.groups { after.groups = try Self.groups(groups) }
        guard after != before else { return UserView(before) }
        if before.role == "admin" && (after.role != "admin" || after.disabledAt != nil) { try await ensureAnotherAdmin(besides: before.id) }
        after.updatedAt = Date()
        try await accounts.updateUser(after)
        if after.disabledAt != nil && before.disabledAt == nil { try await accounts.revokeSessions(userID: after.id, keeping: nil, at: Date()) }
        await audit.record(
            "user.update", actor: admin.user.id, target: "user:\(after.id)", context: context, detail: Change(before: UserView(before), after: UserView(after)))
        var changes: [String] = []
        if after.role != before.role { changes.append("your role is now \(after.role) (was \(before.role))") }
        if after.disabledAt != before.disabledAt { changes.append(after.disabledAt == nil ? "your account is enabled again" : "your account is disabled") }
        if after.displayName != before.displayName { changes.append("your display name is now \(after.displayName)") }
        if after.groups != before.groups { changes.append("your groups are now: \(after.groups.isEmpty ? "none" : after.groups.joined(separator: ", "))") }
        try await mailer.send(
            kind: "account_changed", to: after.email, subject: "Your Omnifin account was changed",
            body: "Hello \(after.displayName),\n\nan administrator changed your Omnifin account:\n\n"
                + changes.map { "- " + $0 }.joined(separator: "\n") + "\n\nIf this is unexpected, contact your administrator.\n")
        return UserView(after)
    }

    func delete(request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.caller(in: [.admin])
        let user = try await user(context)
        guard user.id != admin.user.id else { throw APIError(.forbidden, code: "own_account", "you cannot delete your own account") }
        if user.role == "admin" { try await ensureAnotherAdmin(besides: user.id) }
        guard try await accounts.deleteUser(id: user.id) else { throw APIError.notFound("no user \(user.id)") }
        await audit.record("user.delete", actor: admin.user.id, target: "user:\(user.id)", context: context, detail: Change(before: UserView(user)))
        try await mailer.send(
            kind: "account_deleted", to: user.email, subject: "Your Omnifin account was deleted",
            body: "Hello \(user.displayName),\n\nan administrator deleted your Omnifin account \(user.email) and its conversations.\n")
        return Response(status: .noContent)
    }

    private func user(_ context: AppRequestContext) async throws -> UserRecord {
        let id = try context.parameters.require("id")
        guard id.count <= 100, let user = try await accounts.user(id: id) else { throw APIError.notFound("no user \(id)") }
        return user
    }

    /// 409 unless an enabled admin other than `id` remains.
    private func ensureAnotherAdmin(besides id: String) async throws {
        let admins = try await accounts.users(matching: UserQuery(role: "admin", status: .active, limit: 2))
        guard admins.users.contains(where: { $0.id != id }) else {
            throw APIError(.conflict, code: "last_admin", "this is the last active administrator; make someone else admin first")
        }
    }
}
