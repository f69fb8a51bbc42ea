import Foundation
import Settings

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
