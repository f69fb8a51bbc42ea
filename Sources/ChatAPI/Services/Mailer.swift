import Foundation
import Logging
import Mail
import ServiceLifecycle
import Storage

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

    /// The message as the transport sends it: its body opened.
    func opened(_ message: OutboxMessage) throws -> MailMessage {
        var body = message.body
        if body.hasPrefix(Self.sealedPrefix) {
            guard let bytes = Data(base64Encoded: String(body.dropFirst(Self.sealedPrefix.count))) else {
                throw DataSealer.Failure(description: "a sealed mail body is not base64")
            }
            body = try sealer.open([UInt8](bytes))
        }
        return MailMessage(id: message.id ?? 0, recipient: message.recipient, subject: message.subject, body: body, createdAt: message.createdAt)
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
