import Index

/// A 128-bit fingerprint of texts (two xxHash64 lanes), for telling changed documents and passages from
/// unchanged ones. Not a security hash: nothing here is adversarial, a collision only skips a re-embedding.
enum ContentHash {
    static func of(_ parts: String...) -> String {
        var bytes: [UInt8] = []
        for part in parts {
            bytes += Array(part.utf8)
            bytes.append(0x1F)
        }
        let (a, b) = key(bytes)
        return hex(a) + hex(b)
    }

    /// The two lanes of `text`'s fingerprint (what the embedding cache files are keyed by).
    static func key(_ text: String) -> (UInt64, UInt64) { key(Array(text.utf8)) }

    private static func key(_ bytes: [UInt8]) -> (UInt64, UInt64) {
        bytes.withUnsafeBytes { raw in (XXHash64.hash(raw, seed: 0x6f6d6e69), XXHash64.hash(raw, seed: 0x66696e31)) }
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
