extension Sequence where Element == UInt8 {
    /// The bytes in lower-case hexadecimal, two digits each (digests, keys). Written directly: formatting each byte
    /// with `String(format:)` cost 3% of a search request's CPU when every request hashed its token that way.
    public var hexadecimal: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
