/// Exact k-NN search over a contiguous matrix of vectors, scored with BLAS (`sgemv` for one query, `sgemm` for a
/// batch). It is the ground truth the HNSW index is measured against, and the right index for small collections.
public final class FlatIndex: @unchecked Sendable {
    public let dimension: Int
    public let metric: Metric
    private let lock = ReadWriteLock()
    private var vectors: [Float] = []
    private var norms: [Float] = []
    private var rowIDs: [UInt64] = []
    private var rowOfID: [UInt64: Int] = [:]

    /// - Throws: ``IndexError`` `.invalidParameter` for a dimension outside 1...65536.
    public init(dimension: Int, metric: Metric = .cosine) throws(IndexError) {
        guard dimension > 0, dimension <= 65_536 else { throw .invalidParameter("dimension must be in 1...65536 (got \(dimension))") }
        self.dimension = dimension
        self.metric = metric
    }

    public var count: Int { lock.withReadLock { rowIDs.count } }

    public func contains(id: UInt64) -> Bool { lock.withReadLock { rowOfID[id] != nil } }

    /// Adds `vector` under `id`.
    /// - Throws: ``IndexError`` `.duplicateID`, or a validation error for the vector.
    public func add(_ vector: [Float], id: UInt64) throws(IndexError) {
        guard vector.count == dimension else { throw .dimensionMismatch(expected: dimension, got: vector.count) }
        try add(contentsOf: vector, ids: [id])
    }

    /// Adds `ids.count` vectors given as consecutive rows. Nothing is added unless all are valid.
    public func add(contentsOf vectors: [Float], ids: [UInt64]) throws(IndexError) {
        guard vectors.count == ids.count * dimension else {
            throw IndexError(.dimensionMismatch, "\(vectors.count) floats do not make \(ids.count) vectors of dimension \(dimension)")
        }
        let prepared = try vectors.withUnsafeBufferPointer { (buffer) throws(IndexError) in
            try PreparedBatch(buffer, count: ids.count, dimension: dimension, metric: metric)
        }
        defer { prepared.deallocate() }
        try lock.withWriteLock { () throws(IndexError) in
            var seen = Set<UInt64>()
            for id in ids where rowOfID[id] != nil || !seen.insert(id).inserted {
                throw IndexError(.duplicateID, "id \(id) is already in the index; use update to replace its vector")
            }
            for (row, id) in ids.enumerated() {
                rowOfID[id] = rowIDs.count
                rowIDs.append(id)
                norms.append(prepared.norms[row])
                self.vectors.append(contentsOf: UnsafeBufferPointer(start: prepared.vectors + row * dimension, count: dimension))
            }
        }
    }

    /// Replaces the vector of `id`.
    /// - Throws: ``IndexError`` `.unknownID`, or a validation error for the vector.
    public func update(_ vector: [Float], id: UInt64) throws(IndexError) {
        let prepared = try vector.withUnsafeBufferPointer { (buffer) throws(IndexError) in
            try PreparedBatch(buffer, count: 1, dimension: dimension, metric: metric)
        }
        defer { prepared.deallocate() }
        try lock.withWriteLock { () throws(IndexError) in
            guard let row = rowOfID[id] else { throw IndexError(.unknownID, "id \(id) is not in the index") }
            for i in 0..<dimension { vectors[row * dimension + i] = prepared.vectors[i] }
            norms[row] = prepared.norms[0]
        }
    }

    /// Removes `id` (the last row moves into its place).
    /// - Throws: ``IndexError`` `.unknownID`.
    public func remove(id: UInt64) throws(IndexError) {
        try lock.withWriteLock { () throws(IndexError) in
            guard let row = rowOfID.removeValue(forKey: id) else { throw IndexError(.unknownID, "id \(id) is not in the index") }
            let last = rowIDs.count - 1
            if row != last {
                let moved = rowIDs[last]
                rowIDs[row] = moved
                rowOfID[moved] = row
                norms[row] = norms[last]
                for i in 0..<dimension { vectors[row * dimension + i] = vectors[last * dimension + i] }
            }
            rowIDs.removeLast()
            norms.removeLast()
            vectors.removeLast(dimension)
        }
    }

    /// The exact `k` nearest vectors to `query`, nearest first.
    /// - Throws: ``IndexError`` for a bad query or `k < 1`.
    /// - Complexity: O(n · dimension).
    public func search(_ query: [Float], k: Int, filter: SearchFilter? = nil) throws(IndexError) -> [SearchResult] {
        try VectorValidation.checkK(k)
        let prepared = try query.withUnsafeBufferPointer { (buffer) throws(IndexError) in
            try PreparedBatch(buffer, count: 1, dimension: dimension, metric: metric)
        }
        defer { prepared.deallocate() }
        return lock.withReadLock {
            let n = rowIDs.count
            guard n > 0 else { return [] }
            var dots = [Float](repeating: 0, count: n)
            vectors.withUnsafeBufferPointer { matrix in
                dots.withUnsafeMutableBufferPointer { out in
                    Distance.dots(rows: matrix.baseAddress!, count: n, dimension: dimension, x: prepared.vectors, into: out.baseAddress!)
                }
            }
            var heap = CandidateHeap(capacity: min(k, n) + 1)
            defer { heap.deallocate() }
            for row in 0..<n where passes(rowIDs[row], filter) {
                let d = metric.distance(dot: dots[row], normA: prepared.norms[0], normB: norms[row])
                offer(&heap, d, UInt32(row), k: k)
            }
            return drain(&heap)
        }
    }

    /// Exact k-NN for `queries` (consecutive rows), scored block by block with `sgemm`.
    /// - Returns: one result list per query, nearest first.
    /// - Throws: ``IndexError`` for a bad query or `k < 1`.
    /// - Complexity: O(queries · n · dimension), at matrix-multiply speed.
    public func search(batch queries: [Float], k: Int) throws(IndexError) -> [[SearchResult]] {
        try VectorValidation.checkK(k)
        guard queries.count % dimension == 0 else {
            throw IndexError(.dimensionMismatch, "\(queries.count) floats are not whole queries of dimension \(dimension)")
        }
        let queryCount = queries.count / dimension
        let prepared = try queries.withUnsafeBufferPointer { (buffer) throws(IndexError) in
            try PreparedBatch(buffer, count: queryCount, dimension: dimension, metric: metric)
        }
        defer { prepared.deallocate() }
        return lock.withReadLock {
            let n = rowIDs.count
            var heaps = (0..<queryCount).map { _ in CandidateHeap(capacity: min(k, n) + 1) }
            defer { for heap in heaps { heap.deallocate() } }
            let queryBlock = 256
            let rowBlock = 4096
            var scores = [Float](repeating: 0, count: queryBlock * rowBlock)
            vectors.withUnsafeBufferPointer { matrix in
                scores.withUnsafeMutableBufferPointer { out in
                    var q0 = 0
                    while q0 < queryCount {
                        let qn = min(queryBlock, queryCount - q0)
                        var r0 = 0
                        while r0 < n {
                            let rn = min(rowBlock, n - r0)
                            Distance.pairwiseDots(
                                prepared.vectors + q0 * dimension, count: qn, matrix.baseAddress! + r0 * dimension, count: rn,
                                dimension: dimension, into: out.baseAddress!)
                            for q in 0..<qn {
                                let queryNorm = prepared.norms[q0 + q]
                                for r in 0..<rn {
                                    let d = metric.distance(dot: out[q * rn + r], normA: queryNorm, normB: norms[r0 + r])
                                    offer(&heaps[q0 + q], d, UInt32(r0 + r), k: k)
                                }
                            }
                            r0 += rn
                        }
                        q0 += qn
                    }
                }
            }
            return (0..<queryCount).map { drain(&heaps[$0]) }
        }
    }

    private func passes(_ id: UInt64, _ filter: SearchFilter?) -> Bool {
        switch filter {
        case nil: true
        case .allowList(let allowed): allowed.contains(id)
        case .predicate(let predicate): predicate(id)
        }
    }

    @inline(__always)
    private func offer(_ heap: inout CandidateHeap, _ distance: Float, _ row: UInt32, k: Int) {
        if heap.count < k {
            heap.push(-distance, row)
        } else if distance < -heap.top.distance {
            heap.pop()
            heap.push(-distance, row)
        }
    }

    private func drain(_ heap: inout CandidateHeap) -> [SearchResult] {
        var results = [SearchResult]()
        results.reserveCapacity(heap.count)
        while !heap.isEmpty {
            let c = heap.pop()
            results.append(SearchResult(id: rowIDs[Int(c.slot)], distance: -c.distance, score: metric.score(distance: -c.distance)))
        }
        return results.reversed()
    }
}
