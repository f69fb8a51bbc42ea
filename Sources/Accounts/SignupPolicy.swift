import Foundation
public import Settings

/// Who may create an account by registering (`OMNIFIN_SIGNUP`).
public enum SignupPolicy: Sendable, Equatable {
    /// Anyone who reaches the server (what `omnifin serve --demo` uses unless told otherwise).
    case open
    /// Addresses at these domains (lower-cased, exact or a subdomain of one).
    case domains([String])
    /// Nobody by registering: administrators create or invite accounts (the default).
    case invite
    /// No new accounts through the API at all (no registration, no admin-created or invited accounts): only the
    /// operator adds them with `omnifin admin create-user`.
    case closed

    /// Reads `open`, `domains:example.com,example.org`, `invite` or `closed`.
    /// - Throws: ``Settings/Invalid`` naming what is wrong.
    public static func parse(_ raw: String) throws(Settings.Invalid) -> SignupPolicy {
        let value = raw.trimmingCharacters(in: .whitespaces)
        switch value.lowercased() {
        case "open": return .open
        case "invite": return .invite
        case "closed": return .closed
        default: break
        }
        guard value.lowercased().hasPrefix("domains:") else {
            throw Settings.Invalid("OMNIFIN_SIGNUP '\(raw)' must be open, domains:example.com[,…], invite or closed")
        }
        let domains = value.dropFirst("domains:".count).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard !domains.isEmpty,
            domains.allSatisfy({ $0.contains(".") && !$0.hasPrefix(".") && !$0.hasSuffix(".") && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" } })
        else {
            throw Settings.Invalid("OMNIFIN_SIGNUP '\(raw)': list domains such as domains:example.com,example.org")
        }
        return .domains(domains)
    }

    /// `open`, `domains`, `invite` or `closed`.
    public var name: String {
        switch self {
        case .open: "open"
        case .domains: "domains"
        case .invite: "invite"
        case .closed: "closed"
        }
    }

    /// Whether an address may register itself.
    public func allowsRegistration(of email: String) -> Bool {
        switch self {
        case .open: return true
        case .invite, .closed: return false
        case .domains(let domains):
            guard let domain = email.split(separator: "@").last.map(String.init) else { return false }
            return domains.contains { domain == $0 || domain.hasSuffix("." + $0) }
        }
    }

    /// Whether administrators may create or invite accounts through the API.
    public var allowsAdminCreatedAccounts: Bool { self != .closed }
}
