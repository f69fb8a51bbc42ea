/// How the graph walk scores the neighbours of an expanded node.
///
/// The BLAS kernels are the reference path. `.simd` exists because the walk makes one short dot product per
/// neighbour and BLAS's per-call overhead is a visible part of each; `Benchmarks/README.md` records both.
public enum DistanceKernel: String, Sendable, CaseIterable, Codable {
    /// One `cblas_sdot` per neighbour, reading the vector where it lives.
    case blasDot = "blas-dot"
    /// The unvisited neighbours' vectors gathered into one block, scored with a single `cblas_sgemv`.
    case blasGatheredGemv = "blas-gemv"
    /// An inlined Swift SIMD dot product per neighbour (no call overhead).
    case simd

    var code: UInt32 {
        switch self {
        case .blasDot: 1
        case .blasGatheredGemv: 2
        case .simd: 3
        }
    }

    init?(code: UInt32) {
        switch code {
        case 1: self = .blasDot
        case 2: self = .blasGatheredGemv
        case 3: self = .simd
        default: return nil
        }
    }
}

/// Hand-written dot product on Swift SIMD types, for the graph walk only (see ``DistanceKernel/simd``).
enum SIMDDistance {
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, dimension: Int) -> Float {
        let ra = UnsafeRawPointer(a)
        let rb = UnsafeRawPointer(b)
        var s0 = SIMD8<Float>()
        var s1 = SIMD8<Float>()
        var s2 = SIMD8<Float>()
        var s3 = SIMD8<Float>()
        var i = 0
        while i + 32 <= dimension {
            let o = i * 4
            s0 += ra.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
            s1 += ra.loadUnaligned(fromByteOffset: o + 32, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: o + 32, as: SIMD8<Float>.self)
            s2 += ra.loadUnaligned(fromByteOffset: o + 64, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: o + 64, as: SIMD8<Float>.self)
            s3 += ra.loadUnaligned(fromByteOffset: o + 96, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: o + 96, as: SIMD8<Float>.self)
            i += 32
        }
        while i + 8 <= dimension {
            s0 += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        var sum = ((s0 + s1) + (s2 + s3)).sum()
        while i < dimension {
            sum += a[i] * b[i]
            i += 1
        }
        return sum
    }
}
