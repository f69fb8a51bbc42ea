/// How the graph walk scores the neighbours of an expanded node.
///
/// The BLAS kernels are the reference path. `.simd` exists because the walk makes one short dot product per
/// neighbour and BLAS's per-call overhead is a visible part of each; `.int8` because the walk is bound by the
/// memory traffic of reading vectors from random places. `Benchmarks/README.md` records them all. Construction,
/// exact scans, re-ranking and the neighbour heuristic always use BLAS on the float32 vectors.
public enum DistanceKernel: String, Sendable, CaseIterable, Codable {
    /// One `cblas_sdot` per neighbour, reading the vector where it lives.
    case blasDot = "blas-dot"
    /// The unvisited neighbours' vectors gathered into one block, scored with a single `cblas_sgemv`.
    case blasGatheredGemv = "blas-gemv"
    /// An inlined Swift SIMD dot product per neighbour (no call overhead).
    case simd
    /// The walk scores an 8-bit scalar-quantised copy of the vectors (``ScalarQuantizer``, Swift SIMD, a quarter of
    /// the bytes per distance), then re-ranks its candidates on the float32 vectors with `cblas_sdot`. The copy costs
    /// a byte per component and is made once the index holds ``HNSWIndex/quantizerMinimumTraining`` vectors; until
    /// then searches walk the float32 vectors.
    case int8
    /// As ``int8`` with 4-bit codes: half a byte per component, an eighth of the float32 bytes.
    case int4

    var code: UInt32 {
        switch self {
        case .blasDot: 1
        case .blasGatheredGemv: 2
        case .simd: 3
        case .int8: 4
        case .int4: 5
        }
    }

    /// Bits per component of the codes the walk scores; `nil` for the float32 kernels.
    var quantizerBits: Int? {
        switch self {
        case .int8: 8
        case .int4: 4
        case .blasDot, .blasGatheredGemv, .simd: nil
        }
    }

    init?(code: UInt32) {
        switch code {
        case 1: self = .blasDot
        case 2: self = .blasGatheredGemv
        case 3: self = .simd
        case 4: self = .int8
        case 5: self = .int4
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
