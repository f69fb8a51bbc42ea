import Crypto
public import Foundation
import Logging
public import NIOCore
public import NIOPosix
import Synchronization

/// A small Redis client on SwiftNIO with only what Omnifin uses: PING, AUTH, SELECT, GET, SET (with EX), DEL, INCR,
/// EXPIRE, EVAL and EVALSHA.
///
/// A handful of connections, each pipelined (replies come back in request order), picked round robin. Every
/// command has a deadline; a connection that misses one, or breaks, is dropped and a new one made on the next call.
/// After a failed connect the client fails fast for a short, growing pause (0.5 s up to 5 s) instead of making every
/// request wait for a dead server, so callers can fall back at once and come back when Redis does.
public final class RedisClient: Sendable {
    public struct Configuration: Sendable, Equatable {
        public var host: String
        public var port: Int = 6379
        public var username: String?
        public var password: String?
        public var database = 0
        public var connections = 4
        public var commandTimeout: Duration = .milliseconds(500)
        public var connectTimeout: Duration = .seconds(1)

        /// `redis://[user:password@]host[:port][/db]`.
        /// - Throws: ``RedisError`` (`invalidURL`) naming what is wrong, the password left out.
        public init(url: String) throws(RedisError) {
            guard let components = URLComponents(string: url), components.scheme == "redis", let host = components.host, !host.isEmpty else {
                throw RedisError(.invalidURL, "'\(Self.redacted(url))' is not redis://[user:password@]host:port/db")
            }
            self.host = host
            port = components.port ?? 6379
            username = components.user.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding }
            password = components.password?.removingPercentEncoding
            if username != nil, password == nil {
                // redis://password@host: a password alone, as redis-cli reads it.
                password = username
                username = nil
            }
            let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            if !path.isEmpty {
                guard let number = Int(path), (0...15).contains(number) else {
                    throw RedisError(.invalidURL, "names database '\(path)'; use a number 0–15")
                }
                database = number
            }
        }

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public static func redacted(_ url: String) -> String {
            url.replacing(/:[^:@\/]*@/, with: ":***@")
        }

        public var description: String { "redis://\(host):\(port)/\(database)" }
    }

    private struct State {
        var connections: [(any Channel)?]
        var next = 0
        var downUntil: ContinuousClock.Instant?
        var backoff: Duration = .milliseconds(500)
    }

    public let configuration: Configuration
    private let state: Mutex<State>
    private let group: any EventLoopGroup

    public init(_ configuration: Configuration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.group = group
        state = Mutex(State(connections: Array(repeating: nil, count: max(1, configuration.connections))))
    }

    deinit {
        let channels = state.withLock { $0.connections.compactMap { $0 } }
        for channel in channels { channel.close(promise: nil) }
    }

    /// Closes every connection (new commands reconnect).
    public func shutdown() async {
        let channels = state.withLock { state -> [any Channel] in
            defer { state.connections = Array(repeating: nil, count: state.connections.count) }
            return state.connections.compactMap { $0 }
        }
        for channel in channels { try? await channel.close() }
    }

    /// Sends one command and returns its reply; a Redis error reply is thrown as ``RedisError`` (`replyError`).
    public func send(_ arguments: [String]) async throws -> RESPValue {
        try await send(arguments.map { Array($0.utf8) })
    }

    public func send(_ arguments: [[UInt8]]) async throws -> RESPValue {
        let channel = try await connection()
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        var buffer = channel.allocator.buffer(capacity: 64 + arguments.reduce(0) { $0 + $1.count + 16 })
        RESP.encode(arguments, into: &buffer)
        let timeout = configuration.commandTimeout
        let deadline = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)) {
            promise.fail(RedisError(.timedOut, "Redis did not answer within \(timeout)"))
            // The reply may still come; the connection's order is lost, so it goes.
            channel.close(promise: nil)
        }
        channel.writeAndFlush(RESPCommand(buffer: buffer, reply: promise), promise: nil)
        do {
            let value = try await promise.futureResult.get()
            deadline.cancel()
            if case .error(let message) = value { throw RedisError(.replyError, "Redis answered: \(message)") }
            return value
        } catch {
            deadline.cancel()
            drop(channel)
            throw error
        }
    }

    // MARK: Commands

    public func ping() async throws {
        guard try await send(["PING"]) == .simple("PONG") else { throw RedisError(.unexpectedReply, "Redis did not answer PING with PONG") }
    }

    public func get(_ key: String) async throws -> [UInt8]? {
        switch try await send(["GET", key]) {
        case .bulk(let bytes): return bytes
        case let other: throw RedisError(.unexpectedReply, "GET answered \(other)")
        }
    }

    public func set(_ key: String, _ value: [UInt8], expireSeconds: Int) async throws {
        _ = try await send([Array("SET".utf8), Array(key.utf8), value, Array("EX".utf8), Array(String(expireSeconds).utf8)])
    }

    public func delete(_ keys: [String]) async throws {
        _ = try await send(["DEL"] + keys)
    }

    public func increment(_ key: String) async throws -> Int64 {
        guard case .integer(let value) = try await send(["INCR", key]) else { throw RedisError(.unexpectedReply, "INCR did not answer an integer") }
        return value
    }

    public func expire(_ key: String, seconds: Int) async throws {
        _ = try await send(["EXPIRE", key, String(seconds)])
    }

    /// Runs a Lua script by its SHA-1 (EVALSHA), loading it with EVAL when the server does not know it yet.
    public func evaluate(_ script: RedisScript, keys: [String], arguments: [String]) async throws -> RESPValue {
        let tail = [String(keys.count)] + keys + arguments
        do {
            return try await send(["EVALSHA", script.sha1] + tail)
        } catch let error as RedisError where error.code == .replyError && error.message.contains("NOSCRIPT") {
            return try await send(["EVAL", script.source] + tail)
        }
    }

    // MARK: Connections

    private func connection() async throws -> any Channel {
        enum Next { case use(any Channel), connect(Int), down(Duration) }
        let next = state.withLock { state -> Next in
            let slot = state.next % state.connections.count
            state.next &+= 1
            if let channel = state.connections[slot], channel.isActive { return .use(channel) }
            if let until = state.downUntil, ContinuousClock.now < until { return .down(until - ContinuousClock.now) }
            return .connect(slot)
        }
        switch next {
        case .use(let channel): return channel
        case .down(let left): throw RedisError(.unreachable, "Redis at \(configuration.description) is down (next attempt in \(String(format: "%.1f", left.inSeconds)) s)")
        case .connect(let slot):
            do {
                let channel = try await connect()
                // Another call may have connected this slot meanwhile: keep theirs (it may carry commands) and close ours.
                let winner = state.withLock { state -> any Channel in
                    state.downUntil = nil
                    state.backoff = .milliseconds(500)
                    if let existing = state.connections[slot], existing.isActive { return existing }
                    state.connections[slot] = channel
                    return channel
                }
                if winner !== channel { channel.close(promise: nil) }
                return winner
            } catch {
                state.withLock { state in
                    state.downUntil = ContinuousClock.now + state.backoff
                    state.backoff = min(state.backoff * 2, .seconds(5))
                }
                throw RedisError(.unreachable, "cannot connect to Redis at \(configuration.description): \(error)")
            }
        }
    }

    private func drop(_ channel: any Channel) {
        state.withLock { state in
            for index in state.connections.indices where state.connections[index] === channel { state.connections[index] = nil }
        }
        channel.close(promise: nil)
    }

    private func connect() async throws -> any Channel {
        let timeout = configuration.connectTimeout
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.milliseconds(Int64(timeout.inSeconds * 1000)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPDecoder()))
                    try channel.pipeline.syncOperations.addHandler(RESPReplyHandler())
                }
            }
        let channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        do {
            if let password = configuration.password {
                try await handshake(channel, configuration.username.map { ["AUTH", $0, password] } ?? ["AUTH", password], what: "AUTH")
            }
            if configuration.database != 0 { try await handshake(channel, ["SELECT", String(configuration.database)], what: "SELECT") }
            return channel
        } catch {
            try? await channel.close()
            throw error
        }
    }

    private func handshake(_ channel: any Channel, _ arguments: [String], what: String) async throws {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        var buffer = channel.allocator.buffer(capacity: 64)
        RESP.encode(arguments.map { Array($0.utf8) }, into: &buffer)
        let deadline = channel.eventLoop.scheduleTask(in: .seconds(2)) { promise.fail(RedisError(.timedOut, "\(what) timed out")) }
        channel.writeAndFlush(RESPCommand(buffer: buffer, reply: promise), promise: nil)
        let reply = try await promise.futureResult.get()
        deadline.cancel()
        if case .error(let message) = reply { throw RedisError(.replyError, "\(what) refused: \(message)") }
    }
}

extension Duration {
    fileprivate var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// A Lua script with its SHA-1, for EVALSHA.
public struct RedisScript: Sendable {
    public let source: String
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        sha1 = Insecure.SHA1.hash(data: Array(source.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// One command on the wire and where its reply goes.
struct RESPCommand {
    var buffer: ByteBuffer
    var reply: EventLoopPromise<RESPValue>
}

/// Matches replies to commands in order (Redis answers in the order it was asked), and fails whatever is still
/// waiting when the connection breaks.
final class RESPReplyHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RESPCommand
    typealias OutboundOut = ByteBuffer

    private var waiting = CircularBuffer<EventLoopPromise<RESPValue>>()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let command = unwrapOutboundIn(data)
        waiting.append(command.reply)
        context.write(wrapOutboundOut(command.buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        guard let promise = waiting.popFirst() else {
            // A reply nobody asked for: the stream is out of step.
            context.close(promise: nil)
            return
        }
        promise.succeed(value)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(RedisError(.unreachable, "the connection to Redis closed"))
        context.fireChannelInactive()
    }

    private func failAll(_ error: any Error) {
        while let promise = waiting.popFirst() { promise.fail(error) }
    }
}
