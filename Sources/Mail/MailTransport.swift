/// Delivers one e-mail, or throws why it could not.
public protocol MailTransport: Sendable {
    func deliver(_ message: MailMessage) async throws
    /// What the log calls it.
    var description: String { get }
}
