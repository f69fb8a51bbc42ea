import CBLAS

/// Distance kernels over CBLAS. Every dot product of the indexes goes through these functions.
enum Distance {
    /// `a·b` over `dimension` floats.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, dimension: Int) -> Float {
        cblas_sdot(Int32(dimension), a, 1, b, 1)
    }

    /// `out[i] = rows[i]·x` for `count` contiguous rows of `dimension` floats (`cblas_sgemv`).
    @inline(__always)
    static func dots(rows: UnsafePointer<Float>, count: Int, dimension: Int, x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        guard count > 0 else { return }
        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(count), Int32(dimension), 1, rows, Int32(dimension), x, 1, 0, out, 1)
    }

    /// `out[i*bCount + j] = a[i]·b[j]` for row-major `a` (`aCount` rows) and `b` (`bCount` rows) (`cblas_sgemm`).
    @inline(__always)
    static func pairwiseDots(
        _ a: UnsafePointer<Float>, count aCount: Int, _ b: UnsafePointer<Float>, count bCount: Int, dimension: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        guard aCount > 0, bCount > 0 else { return }
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(aCount), Int32(bCount), Int32(dimension), 1, a, Int32(dimension), b,
            Int32(dimension), 0, out, Int32(bCount))
    }

    /// The squared L2 norm of one vector.
    @inline(__always)
    static func squaredNorm(_ a: UnsafePointer<Float>, dimension: Int) -> Float {
        cblas_sdot(Int32(dimension), a, 1, a, 1)
    }

    /// Hints the CPU to fetch the cache lines of a vector that is about to be read.
    @inline(__always)
    static func prefetch(_ vector: UnsafePointer<Float>, dimension: Int) {
        // Prefetching the first few lines is enough: the hardware prefetcher follows the sequential read.
        omnifin_prefetch(vector)
        if dimension > 16 { omnifin_prefetch(vector + 16) }
        if dimension > 32 { omnifin_prefetch(vector + 32) }
        if dimension > 48 { omnifin_prefetch(vector + 48) }
    }
}
