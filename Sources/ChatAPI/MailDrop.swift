import Foundation

/// Writes outgoing e-mail as `.eml` files into a folder (`OMNIFIN_MAIL=file:DIR`, default `file:var/mail`).
///
/// The durable outbox with retries and the SMTP transport come with the rest of the accounts work; until
/// then this is the only transport, and the log prints every confirmation link.
struct MailDrop: Sendable {
    let directory: String

    func send(to recipient: String, subject: String, body: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let date = Date()
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let message = """
            From: Omnifin <no-reply@omnifin.invalid>\r
            To: <\(recipient)>\r
            Subject: \(subject)\r
            Date: \(formatter.string(from: date))\r
            MIME-Version: 1.0\r
            Content-Type: text/plain; charset=utf-8\r
            \r
            \(body.replacingOccurrences(of: "\n", with: "\r\n"))
            """
        let name = String(format: "%.6f", date.timeIntervalSince1970) + "-" + UUID().uuidString.prefix(8) + ".eml"
        try Data(message.utf8).write(to: URL(fileURLWithPath: directory).appendingPathComponent(name), options: .atomic)
    }
}
