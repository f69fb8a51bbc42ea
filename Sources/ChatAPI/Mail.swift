import Foundation
import Logging
import ServiceLifecycle
import Storage

/// Delivers one e-mail, or throws why it could not.
protocol MailTransport: Sendable {
    func deliver(_ message: OutboxMessage) async throws
    /// What the log and `/readyz` call it.
    var description: String { get }
}

/// Writes each message as an `.eml` file into a folder (`OMNIFIN_MAIL=file:DIR`, default `file:var/mail`).
struct FileMailTransport: MailTransport {
    let directory: String
    var description: String { "file:\(directory)" }

    func deliver(_ message: OutboxMessage) async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let name = String(format: "%.6f", message.createdAt.timeIntervalSince1970) + "-\(message.id ?? 0).eml"
        try Data(MailFormat.rfc5322(message, now: Date()).utf8).write(to: URL(fileURLWithPath: directory).appendingPathComponent(name), options: .atomic)
    }
}

enum MailFormat {
    static let sender = "no-reply@omnifin.invalid"

    /// The message as RFC 5322 text with CRLF line ends (UTF-8 body, encoded-word subject).
    static func rfc5322(_ message: OutboxMessage, now: Date, sender: String = sender) -> String {
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
            Message-ID: <\(message.id ?? 0).\(Int(message.createdAt.timeIntervalSince1970))@omnifin.invalid>\r
            MIME-Version: 1.0\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: 8bit\r
            \r
            \(body)\r

            """
    }
}

/// Puts e-mail into the durable outbox and hands it to the transport; what fails stays queued and is retried
/// with growing pauses, by this replica or any other. Bodies are sealed in the outbox (they carry one-time links:
/// a confirmation, a password reset, an invitation), so reading the database does not hand out those links.
final class Mailer: Sendable {
    let outbox: any OutboxStore
    let transport: any MailTransport
    let sealer: DataSealer
    let logger: Logger
    /// The pause after the first failure; it doubles per attempt up to six hours.
    let retryBase: TimeInterval
    /// How long a claimed message is left to one sender before another may try it.
    static let lease: TimeInterval = 300

    init(outbox: any OutboxStore, transport: any MailTransport, sealer: DataSealer, retryBase: TimeInterval, logger: Logger) {
        self.outbox = outbox
        self.transport = transport
        self.sealer = sealer
        self.retryBase = retryBase
        self.logger = logger
    }

    /// Queues a message (durably, before returning) and starts delivering it in the background.
    func send(kind: String, to recipient: String, subject: String, body: String) async throws {
        let now = Date()
        let sealed = Self.sealedPrefix + Data(try sealer.seal(body)).base64EncodedString()
        _ = try await outbox.enqueueMail(OutboxMessage(kind: kind, recipient: recipient, subject: subject, body: sealed, createdAt: now, nextAttemptAt: now))
        Task { await self.deliverDue() }
    }

    /// What a sealed body in the outbox starts with (bodies queued before sealing are plain text).
    static let sealedPrefix = "sealed:v1:"

    /// The message as the transport must send it: its body opened.
    func opened(_ message: OutboxMessage) throws -> OutboxMessage {
        guard message.body.hasPrefix(Self.sealedPrefix) else { return message }
        guard let bytes = Data(base64Encoded: String(message.body.dropFirst(Self.sealedPrefix.count))) else {
            throw DataSealer.Failure(description: "a sealed mail body is not base64")
        }
        var opened = message
        opened.body = try sealer.open([UInt8](bytes))
        return opened
    }

    /// Delivers every message that is due; returns how many were sent.
    @discardableResult
    func deliverDue() async -> Int {
        var sent = 0
        do {
            while true {
                let now = Date()
                let batch = try await outbox.claimDueMail(now: now, leaseUntil: now.addingTimeInterval(Self.lease), limit: 20)
                if batch.isEmpty { break }
                for message in batch {
                    guard let id = message.id else { continue }
                    do {
                        try await transport.deliver(try opened(message))
                        try await outbox.markMailSent(id: id, at: Date())
                        sent += 1
                    } catch {
                        let pause = min(retryBase * pow(2, Double(message.attempts)), 6 * 3600)
                        logger.warning("mail \(id) to \(message.recipient) failed (attempt \(message.attempts + 1)), retrying in \(Int(pause)) s: \(error)")
                        try await outbox.markMailFailed(id: id, error: "\(error)", nextAttemptAt: Date().addingTimeInterval(pause))
                    }
                }
            }
        } catch {
            logger.error("the mail outbox is unreachable: \(error)")
        }
        return sent
    }
}

/// Retries queued mail every few seconds while the server runs.
struct MailDispatcher: Service {
    let mailer: Mailer
    let interval: Duration

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await mailer.deliverDue()
                try await Task.sleep(for: interval)
            }
        }
    }
}
