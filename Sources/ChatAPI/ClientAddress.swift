#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import HTTPTypes
import Hummingbird

/// An IP network in CIDR notation (`10.0.0.0/8`, `192.0.2.7`, `fd00::/8`, `::1`).
public struct IPNetwork: Sendable, Equatable, CustomStringConvertible {
    let address: [UInt8]
    let prefix: Int

    /// - Throws: ``ServerConfiguration/Invalid`` naming the entry.
    public init(_ text: String) throws {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", maxSplits: 1)
        guard let first = parts.first, let address = IPNetwork.bytes(String(first)) else {
            throw ServerConfiguration.Invalid(description: "'\(text)' is not an IP address or a CIDR network such as 10.0.0.0/8 or fd00::/8")
        }
        let bits = address.count * 8
        let prefix = parts.count == 2 ? Int(parts[1]) : bits
        guard let prefix, (0...bits).contains(prefix) else {
            throw ServerConfiguration.Invalid(description: "'\(text)': the prefix length must be 0 to \(bits)")
        }
        self.address = address
        self.prefix = prefix
    }

    public var description: String {
        var text = [CChar](repeating: 0, count: 64)
        let family = address.count == 4 ? AF_INET : AF_INET6
        _ = address.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "/\(prefix)"
    }

    /// Whether `address` (text, IPv4 or IPv6; an IPv4-mapped IPv6 address counts as IPv4) lies in this network.
    func contains(_ address: String) -> Bool {
        guard let bytes = IPNetwork.bytes(address), bytes.count == self.address.count else { return false }
        var remaining = prefix
        for (a, b) in zip(bytes, self.address) {
            guard remaining > 0 else { return true }
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            if a & mask != b & mask { return false }
            remaining -= 8
        }
        return true
    }

    /// The bytes of an IPv4 or IPv6 address (IPv4-mapped IPv6 as IPv4); `nil` for anything else.
    static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF { return Array(bytes[12...]) }
        return bytes
    }

    static let loopback: [IPNetwork] = [try! IPNetwork("127.0.0.0/8"), try! IPNetwork("::1/128")]
}

/// Who the client is when proxies stand in front: the socket's peer, unless that peer is a trusted proxy
/// (`OMNIFIN_TRUSTED_PROXIES`); then the rightmost address in `Forwarded: for=` (or, without it,
/// `X-Forwarded-For`) that is not a trusted proxy. Headers from any other peer are ignored, so a client cannot
/// choose its own address for the rate limits and the audit log.
enum ClientAddress {
    static func resolve(peer: String, forwarded: [String], forwardedFor: [String], trusted: [IPNetwork]) -> String {
        guard !trusted.isEmpty, isTrusted(peer, trusted) else { return peer }
        let hops = forwarded.isEmpty ? forwardedFor.flatMap { $0.split(separator: ",").map(clean) } : forwarded.flatMap(forwardedHops)
        var client = peer
        for hop in hops.reversed() {
            // A hop that is no address at all was written by the client itself: the proxy after it is the client.
            guard IPNetwork.bytes(hop) != nil else { return client }
            client = hop
            if !isTrusted(hop, trusted) { return hop }
        }
        return client
    }

    static func isTrusted(_ address: String, _ trusted: [IPNetwork]) -> Bool { trusted.contains { $0.contains(address) } }

    /// The `for=` values of a `Forwarded` header (RFC 7239), in order.
    static func forwardedHops(_ header: String) -> [String] {
        header.split(separator: ",").compactMap { element in
            for pair in element.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == "for" else { continue }
                return clean(parts[1])
            }
            return nil
        }
    }

    /// `"[2001:db8::1]:4711"` → `2001:db8::1`, `192.0.2.1:80` → `192.0.2.1`, quotes and spaces dropped.
    static func clean(_ raw: Substring) -> String {
        var text = raw.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 { text = String(text.dropFirst().dropLast()) }
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") { return String(text[text.index(after: text.startIndex)..<close]) }
        if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") { return String(text[..<colon]) }
        return text
    }
}

/// Sets the request's client address (``ClientAddress``) before anything keys on it.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let trusted: [IPNetwork]
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let forwarded = HTTPField.Name("Forwarded")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !trusted.isEmpty else { return try await next(request, context) }
        var context = context
        context.clientAddress = ClientAddress.resolve(
            peer: context.peerAddress, forwarded: request.headers[values: Self.forwarded], forwardedFor: request.headers[values: Self.forwardedFor],
            trusted: trusted)
        return try await next(request, context)
    }
}
