/// Why an account operation was refused: a field that does not satisfy the rules, or an address that has an
/// account already. The message says what was wrong and what to do; `field` names the field at fault.
public struct AccountError: Error, Sendable, CustomStringConvertible {
    private enum Internal: Sendable, Equatable {
        case invalidField, emailTaken
    }

    private let code: Internal
    public let message: String
    public let field: String?

    private init(_ code: Internal, _ message: String, field: String?) {
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String { message }

    /// A field that does not satisfy the rules (a weak password, an address that is none).
    public static func invalid(_ message: String, field: String) -> AccountError { AccountError(.invalidField, message, field: field) }
    /// The address has an account already.
    public static func emailTaken(_ email: String) -> AccountError {
        AccountError(.emailTaken, "an account with the e-mail address \(email) already exists", field: "email")
    }

    /// Whether this is ``emailTaken(_:)``.
    public var isEmailTaken: Bool { code == .emailTaken }
}
