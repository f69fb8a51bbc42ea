/// Checks vectors before they reach an index, and normalises them for cosine.
enum VectorValidation {
    /// Validates `vector` for an index of `dimension` and `metric`, writing the vector to store into `out`
    /// (normalised for cosine). Returns its squared norm after normalisation.
    ///
    /// - Throws: ``IndexError`` with `.dimensionMismatch`, `.nonFiniteComponent` or `.zeroVector`.
    static func prepare(
        _ vector: UnsafeBufferPointer<Float>, dimension: Int, metric: Metric, into out: UnsafeMutablePointer<Float>
    ) throws(IndexError) -> Float {
        guard vector.count == dimension else { throw .dimensionMismatch(expected: dimension, got: vector.count) }
        var sum: Float = 0
        for i in 0..<dimension {
            let x = vector[i]
            guard x.isFinite else {
                throw IndexError(.nonFiniteComponent, "vector component \(i) is \(x); every component must be a finite number")
            }
            sum += x * x
        }
        guard sum.isFinite else {
            throw IndexError(.nonFiniteComponent, "the vector's squared norm overflows Float; scale the vector down")
        }
        if metric == .cosine {
            guard sum > 0 else { throw IndexError(.zeroVector, "a zero vector has no direction, so it cannot be compared by cosine") }
            let scale = 1 / sum.squareRoot()
            for i in 0..<dimension { out[i] = vector[i] * scale }
            return 1
        }
        out.update(from: vector.baseAddress!, count: dimension)
        return sum
    }

    static func checkK(_ k: Int) throws(IndexError) {
        guard k > 0 else { throw .invalidParameter("k must be at least 1 (got \(k))") }
    }
}
