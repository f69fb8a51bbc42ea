/// Why a Redis call failed. `code` says what kind of failure it is, for callers that act on it (fall back to memory
/// while Redis is unreachable, load a script the server does not know); the message is for people.
public struct RedisError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// The `redis://` address cannot be used.
        case invalidURL
        /// No connection: refused, closed, or the client waits before trying again.
        case unreachable
        /// A command, or the handshake, missed its deadline.
        case timedOut
        /// Redis answered with an error (`-ERR …`, `-NOSCRIPT …`, a refused AUTH).
        case replyError
        /// Redis answered something the command does not answer.
        case unexpectedReply
        /// The bytes were not RESP.
        case protocolViolation
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
