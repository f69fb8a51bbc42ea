public import NIOCore

/// A value of the Redis serialization protocol (RESP2): what a command returns.
public enum RESPValue: Sendable, Equatable {
    case simple(String)
    case error(String)
    case integer(Int64)
    /// A bulk string; `nil` is Redis's null bulk string (a missing key).
    case bulk([UInt8]?)
    /// An array; `nil` is the null array.
    case array([RESPValue]?)

    public var string: String? {
        switch self {
        case .simple(let text): text
        case .bulk(let bytes?): String(decoding: bytes, as: UTF8.self)
        default: nil
        }
    }
}

public enum RESP {
    public struct ProtocolError: Error, CustomStringConvertible {
        public var description: String
    }

    /// A command as RESP sends it: an array of bulk strings.
    public static func encode(_ arguments: [[UInt8]], into buffer: inout ByteBuffer) {
        buffer.writeString("*\(arguments.count)\r\n")
        for argument in arguments {
            buffer.writeString("$\(argument.count)\r\n")
            buffer.writeBytes(argument)
            buffer.writeString("\r\n")
        }
    }

    /// The next whole value in `buffer`, consuming it; `nil` (and nothing consumed) when more bytes are needed.
    /// - Throws: ``ProtocolError`` for bytes that are not RESP.
    public static func parse(_ buffer: inout ByteBuffer) throws(ProtocolError) -> RESPValue? {
        var copy = buffer
        guard let value = try parseValue(&copy, depth: 0) else { return nil }
        buffer = copy
        return value
    }

    private static func line(_ buffer: inout ByteBuffer) throws(ProtocolError) -> String? {
        let view = buffer.readableBytesView
        guard let cr = view.firstIndex(of: UInt8(ascii: "\r")) else {
            if view.count > 64 * 1024 { throw ProtocolError(description: "a RESP line longer than 64 KB") }
            return nil
        }
        guard cr + 1 < view.endIndex else { return nil }
        guard view[cr + 1] == UInt8(ascii: "\n") else { throw ProtocolError(description: "a RESP line not ended by CRLF") }
        let text = String(decoding: view[view.startIndex..<cr], as: UTF8.self)
        buffer.moveReaderIndex(forwardBy: cr + 2 - view.startIndex)
        return text
    }

    private static func parseValue(_ buffer: inout ByteBuffer, depth: Int) throws(ProtocolError) -> RESPValue? {
        guard depth < 16 else { throw ProtocolError(description: "RESP arrays nested deeper than 16") }
        guard let marker = buffer.readInteger(as: UInt8.self) else { return nil }
        guard let text = try line(&buffer) else { return nil }
        switch marker {
        case UInt8(ascii: "+"): return .simple(text)
        case UInt8(ascii: "-"): return .error(text)
        case UInt8(ascii: ":"):
            guard let number = Int64(text) else { throw ProtocolError(description: "a RESP integer '\(text)'") }
            return .integer(number)
        case UInt8(ascii: "$"):
            guard let length = Int(text), length >= -1, length <= 512 * 1024 * 1024 else { throw ProtocolError(description: "a bulk length '\(text)'") }
            if length == -1 { return .bulk(nil) }
            guard buffer.readableBytes >= length + 2 else { return nil }
            let bytes = buffer.readBytes(length: length)!
            guard buffer.readBytes(length: 2) == [13, 10] else { throw ProtocolError(description: "a bulk string not ended by CRLF") }
            return .bulk(bytes)
        case UInt8(ascii: "*"):
            guard let count = Int(text), count >= -1, count <= 1_000_000 else { throw ProtocolError(description: "an array length '\(text)'") }
            if count == -1 { return .array(nil) }
            var items: [RESPValue] = []
            items.reserveCapacity(count)
            for _ in 0..<count {
                guard let item = try parseValue(&buffer, depth: depth + 1) else { return nil }
                items.append(item)
            }
            return .array(items)
        default:
            throw ProtocolError(description: "an unknown RESP type byte \(marker)")
        }
    }
}

/// Turns bytes from the server into values.
struct RESPDecoder: ByteToMessageDecoder {
    typealias InboundOut = RESPValue

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let value = try RESP.parse(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(value))
        return .continue
    }
}
