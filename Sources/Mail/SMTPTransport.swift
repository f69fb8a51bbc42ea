import Foundation
public import NIOCore
import NIOPosix
import NIOSSL

/// Delivers mail to an SMTP server (`OMNIFIN_MAIL=smtp://USER:PASSWORD@HOST:PORT`, or `smtps://` for TLS from
/// the first byte): EHLO, STARTTLS (required whenever a password is sent, unless `?tls=none` says the relay is
/// trusted and local), AUTH PLAIN, MAIL FROM, RCPT TO, DATA with dot-stuffing, QUIT. Each message gets its own
/// connection, so a broken one never poisons the next; every step has a deadline.
public struct SMTPTransport: MailTransport {
    public enum Security: Sendable, Equatable { case startTLS, implicitTLS, none }

    public let host: String
    public let port: Int
    public let username: String?
    public let password: String?
    public let security: Security
    public let sender: String
    public var timeout: TimeAmount = .seconds(20)
    /// Certificate checks (off only for tests against a self-signed server).
    public var verifyCertificates = true

    public var description: String {
        "\(security == .implicitTLS ? "smtps" : "smtp")://\(username.map { "\($0):•••@" } ?? "")\(host):\(port)"
    }

    /// Parses `smtp://[user:password@]host[:port][?from=ADDRESS&tls=none]`.
    public static func parse(_ url: String) throws(MailError) -> SMTPTransport {
        guard let components = URLComponents(string: url), let scheme = components.scheme, ["smtp", "smtps"].contains(scheme),
            let host = components.host, !host.isEmpty
        else {
            throw MailError(.invalidURL, "'\(url.replacing(/:[^:@\/]*@/, with: ":***@"))' must be file:DIR, smtp://USER:PASSWORD@HOST:PORT or smtps://…")
        }
        let items = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        var security: Security = scheme == "smtps" ? .implicitTLS : .startTLS
        if items["tls"] == "none" {
            guard scheme == "smtp" else { throw MailError(.invalidURL, "smtps:// cannot have tls=none") }
            security = .none
        }
        let sender = items["from"] ?? MailFormat.sender
        guard sender.contains("@"), !sender.contains(where: { $0 == "<" || $0 == ">" || $0.isWhitespace }) else {
            throw MailError(.invalidURL, "from=\(sender) is not an e-mail address")
        }
        return SMTPTransport(
            host: host, port: components.port ?? (scheme == "smtps" ? 465 : 587), username: components.user?.removingPercentEncoding,
            password: components.password?.removingPercentEncoding, security: security, sender: sender)
    }

    public func deliver(_ message: MailMessage) async throws {
        let session = try await SMTPSession.connect(host: host, port: port, implicitTLS: security == .implicitTLS, tls: tlsConfiguration(), timeout: timeout)
        do {
            try await converse(session, message)
            await session.close()
        } catch {
            await session.close()
            throw error
        }
    }

    private func tlsConfiguration() -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if !verifyCertificates { configuration.certificateVerification = .none }
        return configuration
    }

    private func converse(_ session: SMTPSession, _ message: MailMessage) async throws {
        try await session.expect(220, "the greeting")
        var capabilities = try await session.command("EHLO omnifin.invalid", expect: 250)
        if security == .startTLS {
            if capabilities.contains(where: { $0.uppercased().hasPrefix("STARTTLS") }) {
                _ = try await session.command("STARTTLS", expect: 220)
                try await session.startTLS(tlsConfiguration(), serverHostname: host)
                capabilities = try await session.command("EHLO omnifin.invalid", expect: 250)
            } else {
                throw MailError(.refused, "\(host):\(port) does not offer STARTTLS; refusing to send mail in clear (add ?tls=none only for a trusted local relay)")
            }
        }
        if let username, let password {
            guard capabilities.contains(where: { $0.uppercased().hasPrefix("AUTH") && $0.uppercased().contains("PLAIN") }) else {
                throw MailError(.refused, "\(host):\(port) offers no AUTH PLAIN")
            }
            let credentials = Data(("\u{0}" + username + "\u{0}" + password).utf8).base64EncodedString()
            _ = try await session.command("AUTH PLAIN \(credentials)", expect: 235, redacted: "AUTH PLAIN •••")
        }
        _ = try await session.command("MAIL FROM:<\(sender)>", expect: 250)
        guard !message.recipient.contains(where: { $0 == "<" || $0 == ">" || $0 == "\r" || $0 == "\n" }) else {
            throw MailError(.refused, "the recipient '\(message.recipient)' is not a plain address")
        }
        _ = try await session.command("RCPT TO:<\(message.recipient)>", expect: 250, alsoAccept: [251])
        _ = try await session.command("DATA", expect: 354)
        // Dot-stuffing: a line that starts with "." gets another, so it cannot end the message early.
        let text = MailFormat.rfc5322(message, now: Date(), sender: sender)
        let stuffed = text.split(separator: "\r\n", omittingEmptySubsequences: false).map { $0.hasPrefix(".") ? "." + $0 : String($0) }
            .joined(separator: "\r\n")
        try await session.send(stuffed + (stuffed.hasSuffix("\r\n") ? "" : "\r\n") + ".\r\n")
        try await session.expect(250, "the message")
        _ = try? await session.command("QUIT", expect: 221)
    }
}

/// One SMTP connection: commands out, complete (multi-line) replies in, each within the deadline.
final class SMTPSession: Sendable {
    struct Reply: Sendable {
        var code: Int
        var lines: [String]
    }

    let channel: any Channel
    let replies: AsyncThrowingStream<Reply, any Error>
    private let iterator: IteratorBox
    let timeout: TimeAmount
    let host: String

    /// The stream's iterator, used by one conversation at a time.
    final class IteratorBox: @unchecked Sendable {
        var iterator: AsyncThrowingStream<Reply, any Error>.AsyncIterator
        init(_ iterator: AsyncThrowingStream<Reply, any Error>.AsyncIterator) { self.iterator = iterator }
    }

    private init(channel: any Channel, replies: AsyncThrowingStream<Reply, any Error>, timeout: TimeAmount, host: String) {
        self.channel = channel
        self.replies = replies
        self.iterator = IteratorBox(replies.makeAsyncIterator())
        self.timeout = timeout
        self.host = host
    }

    static func connect(host: String, port: Int, implicitTLS: Bool, tls: TLSConfiguration, timeout: TimeAmount) async throws -> SMTPSession {
        let (stream, continuation) = AsyncThrowingStream<Reply, any Error>.makeStream()
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if implicitTLS {
                            let context = try NIOSSLContext(configuration: tls)
                            try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: serverName(host)))
                        }
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
                        try channel.pipeline.syncOperations.addHandler(SMTPReplyForwarder(continuation: continuation))
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            throw MailError(.unreachable, "cannot connect to the SMTP server \(host):\(port): \(error)")
        }
        return SMTPSession(channel: channel, replies: stream, timeout: timeout, host: host)
    }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text)).get()
    }

    /// The next reply, or a failure after the deadline.
    func next() async throws -> Reply {
        let iterator = iterator
        let timeout = timeout
        return try await withThrowingTaskGroup(of: Reply.self) { group in
            group.addTask {
                guard let reply = try await iterator.iterator.next() else {
                    throw MailError(.unreachable, "the SMTP server closed the connection")
                }
                return reply
            }
            group.addTask {
                try await Task.sleep(for: .nanoseconds(timeout.nanoseconds))
                throw MailError(.unreachable, "the SMTP server did not answer within \(timeout.nanoseconds / 1_000_000_000) s")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    func expect(_ code: Int, _ what: String, alsoAccept: Set<Int> = []) async throws {
        let reply = try await next()
        guard reply.code == code || alsoAccept.contains(reply.code) else {
            throw MailError(.refused, "the SMTP server refused \(what): \(reply.code) \(reply.lines.joined(separator: " "))")
        }
    }

    /// Sends a command and returns the reply's lines (the capabilities, for EHLO).
    func command(_ line: String, expect code: Int, alsoAccept: Set<Int> = [], redacted: String? = nil) async throws -> [String] {
        try await send(line + "\r\n")
        let reply = try await next()
        guard reply.code == code || alsoAccept.contains(reply.code) else {
            throw MailError(.refused, "the SMTP server refused '\(redacted ?? line)': \(reply.code) \(reply.lines.joined(separator: " "))")
        }
        return reply.lines
    }

    /// Upgrades the connection to TLS in place (after `STARTTLS` was accepted).
    func startTLS(_ configuration: TLSConfiguration, serverHostname: String) async throws {
        let context = try NIOSSLContext(configuration: configuration)
        let host = serverName(serverHostname)
        try await channel.eventLoop.submit {
            try self.channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: host), position: .first)
        }.get()
    }

    func close() async {
        try? await channel.close()
    }
}

/// The name for SNI and certificate checks: none for an IP address (SNI cannot carry one; the certificate is
/// then checked against the address).
func serverName(_ host: String) -> String? {
    let isIPv4 = host.split(separator: ".").count == 4 && host.split(separator: ".").allSatisfy { UInt8($0) != nil }
    return isIPv4 || host.contains(":") ? nil : host
}

/// Splits the byte stream into replies: `250-…` lines continue, `250 …` ends one.
struct SMTPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPSession.Reply
    private var lines: [String] = []

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > 64 * 1024 { throw MailError(.unreachable, "the SMTP server sent a line longer than 64 KB") }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex + 1
        var line = buffer.readString(length: length) ?? ""
        while line.hasSuffix("\n") || line.hasSuffix("\r") { line.removeLast() }
        guard line.count >= 3, let code = Int(line.prefix(3)) else {
            throw MailError(.unreachable, "the SMTP server sent '\(line.prefix(80))', not a reply")
        }
        let text = line.count > 4 ? String(line.dropFirst(4)) : ""
        lines.append(text)
        if line.count == 3 || line.dropFirst(3).first == " " {
            context.fireChannelRead(Self.wrapInboundOut(SMTPSession.Reply(code: code, lines: lines)))
            lines = []
        }
        return .continue
    }
}

/// Hands replies (and the end of the connection) to the session.
final class SMTPReplyForwarder: ChannelInboundHandler, Sendable {
    typealias InboundIn = SMTPSession.Reply
    let continuation: AsyncThrowingStream<SMTPSession.Reply, any Error>.Continuation

    init(continuation: AsyncThrowingStream<SMTPSession.Reply, any Error>.Continuation) { self.continuation = continuation }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        continuation.yield(Self.unwrapInboundIn(data))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        continuation.finish(throwing: error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
    }
}
