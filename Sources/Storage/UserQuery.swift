/// Which users an admin listing shows, and which page of them.
public struct UserQuery: Sendable, Equatable {
    /// An account's state as the admin panel filters it.
    public enum Status: String, Sendable, CaseIterable {
        /// Verified and not disabled.
        case active
        /// Registered, e-mail not confirmed yet.
        case unverified
        case disabled
    }

    /// Case-insensitive substring of the e-mail address or the display name.
    public var search: String?
    public var role: String?
    public var status: Status?
    public var limit: Int
    public var offset: Int

    public init(search: String? = nil, role: String? = nil, status: Status? = nil, limit: Int = 50, offset: Int = 0) {
        self.search = search
        self.role = role
        self.status = status
        self.limit = limit
        self.offset = offset
    }

    /// `search` as a `LIKE` pattern with its wildcards escaped (escape character `\`).
    var likePattern: String? {
        guard let search, !search.isEmpty else { return nil }
        var escaped = ""
        for character in search.lowercased() {
            if character == "%" || character == "_" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return "%" + escaped + "%"
    }
}

/// One page of users and how many match in all.
public struct UserPage: Sendable, Equatable {
    public var users: [UserRecord]
    public var total: Int

    public init(users: [UserRecord], total: Int) {
        self.users = users
        self.total = total
    }
}
