import CBLAS

/// Scalar quantisation to 8 or 4 bits per component, with a range of its own per vector, around the collection's mean
/// (the locally adaptive scheme of Aguerrebere et al., "Similarity search in the blink of an eye with compressed
/// indices", VLDB 2023).
///
/// A vector `x` is stored as its residual `r = x - mean`: its own `low` (the smallest residual component) and `step`
/// (its range over 255, or 15) as two float32, then one code `c[j] = round((r[j] - low) / step)` per component, a byte
/// each or two to a byte; one row of ``rowBytes(dimension:bits:)`` bytes, so that one cache line brings the range and
/// the first codes together. It decodes as `x̂[j] = mean[j] + low + step·c[j]`, within `step/2` of `x[j]` in every
/// component, whatever the vector: an outlier gets a wider range, never a clamped code.
///
/// The quantised walks (``DistanceKernel/int8``, ``DistanceKernel/int4``) score these codes instead of the float32
/// vectors: a quarter or an eighth of the bytes per distance, which is what a graph walk bound by memory traffic pays
/// for. `q·x̂ = q·mean + low·Σq + step·Σ q[j]·c[j]`: the first two sums are computed once per search, and the last is an
/// integer dot product of the codes with the query rounded to 15 bits (Swift SIMD: BLAS has no integer kernel), plus
/// two multiply-adds per distance.
struct ScalarQuantizer {
    let dimension: Int
    /// Bits per component: 8 or 4.
    let bits: Int
    /// The mean of the vectors it was trained on; residuals from it have a smaller range than the vectors.
    let mean: [Float]
    /// Number of vectors it was trained on.
    let trainedOn: Int

    init(bits: Int, mean: [Float], trainedOn: Int) {
        precondition(bits == 8 || bits == 4, "codes have 8 or 4 bits")
        dimension = mean.count
        self.bits = bits
        self.mean = mean
        self.trainedOn = trainedOn
    }

    /// Trains on `count` rows: the mean of each dimension.
    /// - Complexity: O(count · dimension).
    init(bits: Int, trainingOn rows: (Int) -> UnsafePointer<Float>, count: Int, dimension: Int) {
        var sum = [Double](repeating: 0, count: dimension)
        sum.withUnsafeMutableBufferPointer { sum in
            for row in 0..<count {
                let v = rows(row)
                for j in 0..<dimension { sum[j] += Double(v[j]) }
            }
        }
        self.init(bits: bits, mean: sum.map { count == 0 ? 0 : Float($0 / Double(count)) }, trainedOn: count)
    }

    /// Bytes before the codes in a row: `low` and `step`.
    static let rowHeader = 8

    /// The size of one encoded vector.
    static func rowBytes(dimension: Int, bits: Int) -> Int { rowHeader + (bits == 8 ? dimension : (dimension + 1) / 2) }

    /// Writes the row of `vector`: its range, then its codes.
    ///
    /// 4-bit codes are packed by blocks of 32 components into 16 bytes, byte `k` holding component `k` in its low half
    /// and component `16 + k` in its high half; the components past the last whole block go two to a byte in order.
    @inline(__always)
    func encode(_ vector: UnsafePointer<Float>, into row: UnsafeMutableRawPointer) {
        let codes = (row + Self.rowHeader).assumingMemoryBound(to: UInt8.self)
        let range = mean.withUnsafeBufferPointer { mean in
            var low = Float.infinity
            var high = -Float.infinity
            for j in 0..<dimension {
                let r = vector[j] - mean[j]
                low = min(low, r)
                high = max(high, r)
            }
            let levels: Float = bits == 8 ? 255 : 15
            let width = high - low
            let step = width > 0 && width.isFinite ? width / levels : 1
            let inverse = 1 / step
            // Rounding by adding a half and truncating: the level is never negative (roundf is a library call).
            func code(_ j: Int) -> UInt8 { UInt8(min(max((vector[j] - mean[j] - low) * inverse + 0.5, 0), levels)) }
            if bits == 8 {
                for j in 0..<dimension { codes[j] = code(j) }
            } else {
                let blocked = dimension - dimension % 32
                for block in stride(from: 0, to: blocked, by: 32) {
                    for k in 0..<16 { codes[block / 2 + k] = code(block + k) | code(block + 16 + k) << 4 }
                }
                for j in stride(from: blocked, to: dimension, by: 2) {
                    codes[j / 2] = code(j) | (j + 1 < dimension ? code(j + 1) << 4 : 0)
                }
            }
            return SIMD2(low, step)
        }
        row.storeBytes(of: range, as: SIMD2<Float>.self)
    }

    /// The range `(low, step)` a row was encoded with.
    @inline(__always)
    static func range(of row: UnsafeRawPointer) -> SIMD2<Float> { row.loadUnaligned(as: SIMD2<Float>.self) }

    /// A query as the quantised walk reads it: its components as 15-bit integers (in the order the code dot products
    /// read them) and the sums that turn an integer dot product back into `q·x̂`.
    struct PreparedQuery {
        /// `q·mean`, `Σq` and the integer scale `s` (`q[j] ≈ s·qi[j]`), in that order; the fourth lane is unused.
        var terms = SIMD4<Float>()
    }

    /// Writes the integer query to `integers` (`dimension` values) and returns its terms.
    ///
    /// Each component becomes `round(q[j] / s)` with `s = max|q| / 16383`: 15 bits, so that 384 products with
    /// codes cannot overflow the 32-bit sums, and a relative error of 6·10⁻⁵, far below the codes' own 1/255.
    @inline(__always)
    func prepare(_ query: UnsafePointer<Float>, integers: UnsafeMutablePointer<Int16>) -> PreparedQuery {
        var sum: Float = 0
        var largest: Float = 0
        for j in 0..<dimension {
            sum += query[j]
            largest = max(largest, abs(query[j]))
        }
        let scale = largest > 0 ? largest / 16383 : 1
        let inverse = 1 / scale
        func integer(_ j: Int) -> Int16 { Int16((query[j] * inverse).rounded()) }
        let blockSize = bits == 8 ? 16 : 32
        let blocked = dimension - dimension % blockSize
        for block in stride(from: 0, to: blocked, by: blockSize) {
            for lane in 0..<8 {
                if bits == 8 {
                    // The 8 even components, then the 8 odd ones (see codeDot8).
                    integers[block + lane] = integer(block + 2 * lane)
                    integers[block + 8 + lane] = integer(block + 2 * lane + 1)
                } else {
                    // Even and odd components of the block's first half, then of its second half (see codeDot4).
                    integers[block + lane] = integer(block + 2 * lane)
                    integers[block + 8 + lane] = integer(block + 2 * lane + 1)
                    integers[block + 16 + lane] = integer(block + 16 + 2 * lane)
                    integers[block + 24 + lane] = integer(block + 17 + 2 * lane)
                }
            }
        }
        for j in blocked..<dimension { integers[j] = integer(j) }
        let bias = mean.withUnsafeBufferPointer { cblas_sdot(Int32(dimension), query, 1, $0.baseAddress, 1) }
        return PreparedQuery(terms: SIMD4(bias, sum, scale, 0))
    }

    /// The dot product of the query with the decoded vector of an 8-bit `row`: `q·mean + low·Σq + step·s·Σ qi[j]·c[j]`,
    /// with the prepared query from ``prepare(_:integers:)``.
    @inline(__always)
    static func dot8(_ integers: UnsafePointer<Int16>, _ prepared: PreparedQuery, row: UnsafeRawPointer, dimension: Int) -> Float {
        decoded(prepared, row: row, codeSum: codeDot8(integers, (row + rowHeader).assumingMemoryBound(to: UInt8.self), dimension: dimension))
    }

    /// ``dot8(_:_:row:dimension:)`` for a 4-bit row.
    @inline(__always)
    static func dot4(_ integers: UnsafePointer<Int16>, _ prepared: PreparedQuery, row: UnsafeRawPointer, dimension: Int) -> Float {
        decoded(prepared, row: row, codeSum: codeDot4(integers, (row + rowHeader).assumingMemoryBound(to: UInt8.self), dimension: dimension))
    }

    /// `q·mean + low·Σq + step·s·Σ qi[j]·c[j]` from the row's range and the integer sum.
    @inline(__always)
    private static func decoded(_ prepared: PreparedQuery, row: UnsafeRawPointer, codeSum: Int32) -> Float {
        let t = prepared.terms
        let range = range(of: row)
        return t[0] + range.x * t[1] + range.y * t[2] * Float(codeSum)
    }

    /// `Σ qi[j]·c[j]` over 8-bit codes, in 32-bit integers.
    ///
    /// Each 16 bytes of codes are read as eight 16-bit words, whose low bytes are the even components and whose high
    /// bytes the odd ones; the query was laid out to match. No byte-by-byte widening, which Swift's SIMD conversions
    /// would do lane by lane: on the x86-64 baseline this runs at about 25 ns for 384 components, against 37 ns for
    /// `cblas_sdot` on the float32 vector (see Benchmarks/README.md).
    @inline(__always)
    static func codeDot8(_ integers: UnsafePointer<Int16>, _ codes: UnsafePointer<UInt8>, dimension: Int) -> Int32 {
        let rq = UnsafeRawPointer(integers)
        let rc = UnsafeRawPointer(codes)
        var even = SIMD8<Int32>()
        var odd = SIMD8<Int32>()
        var i = 0
        while i + 16 <= dimension {
            let words = rc.loadUnaligned(fromByteOffset: i, as: SIMD8<UInt16>.self)
            let low = SIMD8<Int32>(truncatingIfNeeded: words & 0xFF)
            let high = SIMD8<Int32>(truncatingIfNeeded: words &>> 8)
            even &+= low &* SIMD8<Int32>(truncatingIfNeeded: rq.loadUnaligned(fromByteOffset: i * 2, as: SIMD8<Int16>.self))
            odd &+= high &* SIMD8<Int32>(truncatingIfNeeded: rq.loadUnaligned(fromByteOffset: i * 2 + 16, as: SIMD8<Int16>.self))
            i += 16
        }
        var sum = (even &+ odd).wrappedSum()
        while i < dimension {
            sum &+= Int32(integers[i]) &* Int32(codes[i])
            i += 1
        }
        return sum
    }

    /// `Σ qi[j]·c[j]` over 4-bit codes, in 32-bit integers: each 16 bytes (32 components) read as eight 16-bit words
    /// whose four nibbles are four components (see ``encode(_:into:)`` and ``prepare(_:integers:)``).
    @inline(__always)
    static func codeDot4(_ integers: UnsafePointer<Int16>, _ codes: UnsafePointer<UInt8>, dimension: Int) -> Int32 {
        let rq = UnsafeRawPointer(integers)
        let rc = UnsafeRawPointer(codes)
        var a = SIMD8<Int32>()
        var b = SIMD8<Int32>()
        var i = 0
        while i + 32 <= dimension {
            let words = rc.loadUnaligned(fromByteOffset: i / 2, as: SIMD8<UInt16>.self)
            let q = rq + i * 2
            a &+= SIMD8<Int32>(truncatingIfNeeded: words & 0x000F) &* SIMD8<Int32>(truncatingIfNeeded: q.loadUnaligned(as: SIMD8<Int16>.self))
            b &+= SIMD8<Int32>(truncatingIfNeeded: (words &>> 8) & 0x000F)
                &* SIMD8<Int32>(truncatingIfNeeded: q.loadUnaligned(fromByteOffset: 16, as: SIMD8<Int16>.self))
            a &+= SIMD8<Int32>(truncatingIfNeeded: (words &>> 4) & 0x000F)
                &* SIMD8<Int32>(truncatingIfNeeded: q.loadUnaligned(fromByteOffset: 32, as: SIMD8<Int16>.self))
            b &+= SIMD8<Int32>(truncatingIfNeeded: words &>> 12) &* SIMD8<Int32>(truncatingIfNeeded: q.loadUnaligned(fromByteOffset: 48, as: SIMD8<Int16>.self))
            i += 32
        }
        var sum = (a &+ b).wrappedSum()
        while i < dimension {
            let byte = codes[i / 2]
            sum &+= Int32(integers[i]) &* Int32(i % 2 == 0 ? byte & 0x0F : byte >> 4)
            i += 1
        }
        return sum
    }
}
