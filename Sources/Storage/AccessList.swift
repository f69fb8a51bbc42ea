/// Who may see a document: a set of principals, `role:NAME`, `group:NAME` or `user:ID`.
///
/// An empty list means every signed-in user. Admins see everything whatever the list says; the rule itself
/// lives in the retrieval layer (`AccessRights`), the store only keeps the list.
public struct AccessList: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Sorted and without duplicates, so equal lists compare and hash equal.
    public let principals: [String]

    public static let everyone = AccessList(principals: [])

    public init<S: Sequence<String>>(principals: S) {
        self.principals = Array(Set(principals.map { $0.trimmingWhitespace() }.filter { !$0.isEmpty })).sorted()
    }

    public init(from decoder: any Decoder) throws {
        self.init(principals: try decoder.singleValueContainer().decode([String].self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(principals)
    }

    public var isEveryone: Bool { principals.isEmpty }

    public var description: String { principals.isEmpty ? "everyone" : principals.joined(separator: ",") }

    /// Checks that every principal has a known kind and a name, so a typo does not silently hide a document.
    /// - Returns: the first invalid principal, or `nil`.
    public func firstInvalidPrincipal() -> String? {
        principals.first { principal in
            guard let colon = principal.firstIndex(of: ":") else { return true }
            let kind = principal[..<colon]
            let name = principal[principal.index(after: colon)...]
            return !["role", "group", "user"].contains(kind) || name.isEmpty || name.count > 200
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
