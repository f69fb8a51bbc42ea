public import Storage

/// What a caller may see: their id, role and groups, checked against each document's ``AccessList``.
public struct AccessRights: Sendable, Hashable {
    public enum Role: String, Sendable, Hashable, CaseIterable, Codable {
        case user, editor, admin

        /// Roles include those below them: an editor is also a user.
        var implied: [Role] {
            switch self {
            case .user: [.user]
            case .editor: [.user, .editor]
            case .admin: [.user, .editor, .admin]
            }
        }
    }

    public var userID: String?
    public var role: Role
    public var groups: Set<String>

    public init(userID: String?, role: Role, groups: Set<String> = []) {
        self.userID = userID
        self.role = role
        self.groups = groups
    }

    /// Everything: admins, and the command line run by the operator.
    public static let everything = AccessRights(userID: nil, role: .admin)

    /// The principals an access list may name to let this caller in.
    public var principals: Set<String> {
        var set = Set(role.implied.map { "role:\($0.rawValue)" })
        for group in groups { set.insert("group:\(group)") }
        if let userID { set.insert("user:\(userID)") }
        return set
    }

    /// Whether the caller may see a document with `access`: admins see everything, an empty list is open to
    /// every signed-in user, otherwise one of the caller's principals must be on the list.
    public func canSee(_ access: AccessList) -> Bool {
        role == .admin || access.isEveryone || !principals.isDisjoint(with: access.principals)
    }
}
