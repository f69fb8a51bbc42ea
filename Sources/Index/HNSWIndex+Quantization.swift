import CBLAS
import Synchronization

extension HNSWIndex {
    /// Vectors the quantised walks (``DistanceKernel/int8``, ``DistanceKernel/int4``) wait for before it trains its quantiser; below that, searches walk
    /// the float32 vectors (a small index is fast either way, and a few vectors say little about the ranges).
    public static let quantizerMinimumTraining = 1_000
    /// The quantiser is retrained each time the index doubles, up to this many vectors; past it the ranges are
    /// settled.
    static let quantizerRetrainLimit = 1 << 17

    /// Trains the quantised walk's quantiser when the kernel asks for it and the index has reached
    /// ``quantizerMinimumTraining`` vectors, or retrains it when the index has doubled since or the kernel wants codes
    /// of another width, then encodes every stored vector. The rows of `batch`, about to be inserted, join the training set; they are encoded as they
    /// are inserted. Callers hold `writeGate` shared, so no snapshot or repair runs meanwhile.
    ///
    /// - Complexity: O(n · dimension) when it trains, which happens O(log n) times in the life of an index.
    func trainQuantizerIfDue(adding batch: PreparedBatch?, count batchCount: Int = 0) {
        guard let bits = kernel.quantizerBits else { return }
        let total = state.withLock { $0.slotOfKey.count } + batchCount
        func due() -> Bool {
            guard let quantizer, quantizer.bits == bits else { return total >= Self.quantizerMinimumTraining }
            return quantizer.trainedOn < Self.quantizerRetrainLimit && total >= 2 * quantizer.trainedOn
        }
        guard structureLock.withReadLock(due) else { return }
        structureLock.withWriteLock {
            guard due() else { return }
            let highWater = state.withLock { $0.highWater }
            var rows: [UnsafePointer<Float>] = []
            rows.reserveCapacity(total)
            for slot in 0..<highWater where levels[slot] >= 0 && deleted[slot] == 0 { rows.append(UnsafePointer(vector(at: UInt32(slot)))) }
            if let batch {
                for row in 0..<batchCount { rows.append(UnsafePointer(batch.vectors + row * dimension)) }
            }
            let trained = ScalarQuantizer(bits: bits, trainingOn: { rows[$0] }, count: rows.count, dimension: dimension)
            install(trained, slots: highWater)
        }
    }

    /// Makes `quantizer` the quantised walk's and encodes the stored vectors of slots `0..<slots` with it (tombstones
    /// too: the walk passes through them). Callers hold `structureLock` exclusively, or own the index alone.
    func install(_ trained: ScalarQuantizer, slots: Int) {
        let stride = ScalarQuantizer.rowBytes(dimension: dimension, bits: trained.bits)
        if codes == nil || stride != codeStride {
            codes?.deallocate()
            let fresh = UnsafeMutableRawPointer.allocate(byteCount: capacity * stride, alignment: 64)
            fresh.initializeMemory(as: UInt8.self, repeating: 0, count: capacity * stride)
            codes = fresh
            codeStride = stride
        }
        for slot in 0..<slots where levels[slot] >= 0 { trained.encode(vector(at: UInt32(slot)), into: codeRow(UInt32(slot))) }
        quantizer = trained
    }

    /// The quantised row of a slot (see ``ScalarQuantizer/encode(_:into:)``).
    @inline(__always) func codeRow(_ slot: UInt32) -> UnsafeMutableRawPointer { codes.unsafelyUnwrapped + Int(slot) * codeStride }

    /// Starts fetching every cache line of a slot's quantised row. Unlike the float32 vectors, where the first line is
    /// enough, the hardware prefetcher does not follow these short rows: fetching all seven lines of a 384-d 8-bit row
    /// made the walk about 25 % faster (Benchmarks/README.md).
    @inline(__always)
    func prefetchCodes(_ slot: UInt32) {
        let row = codeRow(slot)
        var offset = 0
        while offset < codeStride {
            omnifin_prefetch(row + offset)
            offset += 64
        }
    }

    /// The quantised walk's distance between the prepared query in `scratch` and a stored slot.
    @inline(__always)
    func approximateDistance(_ scratch: SearchScratch, norm: Float, to slot: UInt32, kernel: DistanceKernel) -> Float {
        let dot =
            kernel == .int8
            ? ScalarQuantizer.dot8(scratch.integerQuery, scratch.preparedQuery, row: codeRow(slot), dimension: dimension)
            : ScalarQuantizer.dot4(scratch.integerQuery, scratch.preparedQuery, row: codeRow(slot), dimension: dimension)
        return metric.distance(dot: dot, normA: norm, normB: norms[Int(slot)])
    }

    /// Replaces the walk's distances of the `count` candidates in `scratch.ordered` with exact float32 ones
    /// (`cblas_sdot` on the stored vectors) and sorts them nearest first.
    func rerank(_ scratch: SearchScratch, queryNorm: Float, count: Int) {
        let ordered = scratch.ordered
        for i in 0..<count {
            if i + 1 < count { Distance.prefetch(vector(at: ordered[i + 1].slot), dimension: dimension) }
            ordered[i].distance = distance(scratch.query, norm: queryNorm, to: ordered[i].slot)
        }
        var buffer = UnsafeMutableBufferPointer(start: ordered, count: count)
        buffer.sort { $0.distance < $1.distance }
    }
}
