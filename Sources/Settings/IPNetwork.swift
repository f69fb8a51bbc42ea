#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// An IP network in CIDR notation (`10.0.0.0/8`, `192.0.2.7`, `fd00::/8`, `::1`).
public struct IPNetwork: Sendable, Equatable, CustomStringConvertible {
    let address: [UInt8]
    let prefix: Int

    /// - Throws: ``Settings/Invalid`` naming the entry.
    public init(_ text: String) throws(Settings.Invalid) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", maxSplits: 1)
        guard let first = parts.first, let address = IPNetwork.bytes(String(first)) else {
            throw Settings.Invalid("'\(text)' is not an IP address or a CIDR network such as 10.0.0.0/8 or fd00::/8")
        }
        let bits = address.count * 8
        let prefix = parts.count == 2 ? Int(parts[1]) : bits
        guard let prefix, (0...bits).contains(prefix) else {
            throw Settings.Invalid("'\(text)': the prefix length must be 0 to \(bits)")
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
    public func contains(_ address: String) -> Bool {
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
    public static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF { return Array(bytes[12...]) }
        return bytes
    }

    public static let loopback: [IPNetwork] = [try! IPNetwork("127.0.0.0/8"), try! IPNetwork("::1/128")]
}
