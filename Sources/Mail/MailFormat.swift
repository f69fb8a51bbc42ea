public import Foundation

/// E-mail as text on the wire.
public enum MailFormat {
    public static let sender = "no-reply@omnifin.invalid"

    /// The message as RFC 5322 text with CRLF line ends (UTF-8 body, encoded-word subject).
    public static func rfc5322(_ message: MailMessage, now: Date, sender: String = sender) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let subject =
            message.subject.allSatisfy(\.isASCII) ? message.subject : "=?utf-8?B?" + Data(message.subject.utf8).base64EncodedString() + "?="
        let body = message.body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
        return """
            From: Omnifin <\(sender)>\r
            To: <\(message.recipient)>\r
            Subject: \(subject)\r
            Date: \(formatter.string(from: now))\r
            Message-ID: <\(message.id).\(Int(message.createdAt.timeIntervalSince1970))@omnifin.invalid>\r
            MIME-Version: 1.0\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: 8bit\r
            \r
            \(body)\r

            """
    }
}
