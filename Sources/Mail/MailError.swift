/// Why mail could not go out. `code` says what kind of failure it is; the message (never holding the password)
/// is what the outbox keeps as the message's last error.
public struct MailError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// The `OMNIFIN_MAIL` address cannot be used.
        case invalidURL
        /// No connection, or it closed, or the server did not answer in time.
        case unreachable
        /// The server refused: no STARTTLS, no AUTH PLAIN, a wrong password, a refused recipient.
        case refused
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
