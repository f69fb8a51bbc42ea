/// xxHash64, streaming: the checksum of index snapshot files (fast enough to check 150 MB in a few tens of
/// milliseconds, unlike a byte-at-a-time CRC).
package struct XXHash64 {
    private static let p1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let p3: UInt64 = 0x1656_67B1_9E37_79F9
    private static let p4: UInt64 = 0x85EB_CA77_C2B2_AE63
    private static let p5: UInt64 = 0x27D4_EB2F_1656_67C5

    private var v1: UInt64, v2: UInt64, v3: UInt64, v4: UInt64
    private let seed: UInt64
    private var totalLength: UInt64 = 0
    private var buffer: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var bufferCount = 0

    init(seed: UInt64 = 0) {
        self.seed = seed
        v1 = seed &+ Self.p1 &+ Self.p2
        v2 = seed &+ Self.p2
        v3 = seed
        v4 = seed &- Self.p1
    }

    @inline(__always)
    private static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
        var acc = acc &+ input &* p2
        acc = (acc << 31) | (acc >> 33)
        return acc &* p1
    }

    @inline(__always)
    private static func merge(_ acc: UInt64, _ value: UInt64) -> UInt64 {
        let acc = acc ^ round(0, value)
        return acc &* p1 &+ p4
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var pointer = bytes.baseAddress, bytes.count > 0 else { return }
        var remaining = bytes.count
        totalLength &+= UInt64(remaining)
        withUnsafeMutableBytes(of: &buffer) { stash in
            if bufferCount > 0 {
                let take = min(32 - bufferCount, remaining)
                stash.baseAddress!.advanced(by: bufferCount).copyMemory(from: pointer, byteCount: take)
                bufferCount += take
                pointer += take
                remaining -= take
                if bufferCount == 32 {
                    v1 = Self.round(v1, stash.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian)
                    v2 = Self.round(v2, stash.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian)
                    v3 = Self.round(v3, stash.loadUnaligned(fromByteOffset: 16, as: UInt64.self).littleEndian)
                    v4 = Self.round(v4, stash.loadUnaligned(fromByteOffset: 24, as: UInt64.self).littleEndian)
                    bufferCount = 0
                }
            }
            var a = v1, b = v2, c = v3, d = v4
            while remaining >= 32 {
                a = Self.round(a, pointer.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian)
                b = Self.round(b, pointer.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian)
                c = Self.round(c, pointer.loadUnaligned(fromByteOffset: 16, as: UInt64.self).littleEndian)
                d = Self.round(d, pointer.loadUnaligned(fromByteOffset: 24, as: UInt64.self).littleEndian)
                pointer += 32
                remaining -= 32
            }
            v1 = a; v2 = b; v3 = c; v4 = d
            if remaining > 0 {
                stash.baseAddress!.copyMemory(from: pointer, byteCount: remaining)
                bufferCount = remaining
            }
        }
    }

    func finalize() -> UInt64 {
        var hash: UInt64
        if totalLength >= 32 {
            hash = ((v1 << 1) | (v1 >> 63)) &+ ((v2 << 7) | (v2 >> 57)) &+ ((v3 << 12) | (v3 >> 52)) &+ ((v4 << 18) | (v4 >> 46))
            hash = Self.merge(hash, v1)
            hash = Self.merge(hash, v2)
            hash = Self.merge(hash, v3)
            hash = Self.merge(hash, v4)
        } else {
            hash = seed &+ Self.p5
        }
        hash &+= totalLength
        var stash = buffer
        let count = bufferCount
        withUnsafeBytes(of: &stash) { tail in
            var offset = 0
            while offset + 8 <= count {
                let k = Self.round(0, tail.loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian)
                hash ^= k
                hash = ((hash << 27) | (hash >> 37)) &* Self.p1 &+ Self.p4
                offset += 8
            }
            if offset + 4 <= count {
                hash ^= UInt64(tail.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian) &* Self.p1
                hash = ((hash << 23) | (hash >> 41)) &* Self.p2 &+ Self.p3
                offset += 4
            }
            while offset < count {
                hash ^= UInt64(tail[offset]) &* Self.p5
                hash = ((hash << 11) | (hash >> 53)) &* Self.p1
                offset += 1
            }
        }
        hash ^= hash >> 33
        hash &*= Self.p2
        hash ^= hash >> 29
        hash &*= Self.p3
        hash ^= hash >> 32
        return hash
    }

    package static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        var hasher = XXHash64(seed: seed)
        hasher.update(bytes)
        return hasher.finalize()
    }
}
