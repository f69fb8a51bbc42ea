import CBLAS
import Synchronization

/// Decides which slots a search may return.
protocol SlotAcceptor {
    /// `true` when every slot is accepted, so the search may stop as soon as the candidates get worse.
    var acceptsAll: Bool { get }
    func accepts(_ slot: UInt32) -> Bool
}

/// Every node, tombstones included: the upper layers and the construction of a graph without deletions.
struct AcceptAny: SlotAcceptor {
    var acceptsAll: Bool { true }
    @inline(__always) func accepts(_ slot: UInt32) -> Bool { true }
}

/// Live nodes only.
struct AcceptLive: SlotAcceptor {
    let deleted: UnsafeMutablePointer<UInt8>
    let hasTombstones: Bool
    var acceptsAll: Bool { !hasTombstones }
    @inline(__always) func accepts(_ slot: UInt32) -> Bool { omnifin_load_relaxed_u8(deleted + Int(slot)) == 0 }
}

/// Live nodes whose id is in a large allow-list: one hash lookup per visited node, instead of mapping every
/// allowed id to its slot before the search.
struct AcceptSet: SlotAcceptor {
    let deleted: UnsafeMutablePointer<UInt8>
    let keys: UnsafeMutablePointer<UInt64>
    let allowed: Set<UInt64>
    var acceptsAll: Bool { false }
    @inline(__always) func accepts(_ slot: UInt32) -> Bool {
        omnifin_load_relaxed_u8(deleted + Int(slot)) == 0 && allowed.contains(keys[Int(slot)])
    }
}

/// Live nodes whose id passes a caller's predicate.
struct AcceptPredicate: SlotAcceptor {
    let deleted: UnsafeMutablePointer<UInt8>
    let keys: UnsafeMutablePointer<UInt64>
    let predicate: @Sendable (UInt64) -> Bool
    var acceptsAll: Bool { false }
    @inline(__always) func accepts(_ slot: UInt32) -> Bool {
        omnifin_load_relaxed_u8(deleted + Int(slot)) == 0 && predicate(keys[Int(slot)])
    }
}

extension HNSWIndex {
    /// Finds the `k` nearest live vectors to `query`.
    ///
    /// - Parameters:
    ///   - query: a vector of the index dimension (normalised here under cosine).
    ///   - k: how many neighbours to return, at least 1.
    ///   - ef: the candidate list size; defaults to ``HNSWConfiguration/efSearch`` and is raised to `k`.
    ///   - filter: restricts the ids that may be returned. A filter that passes few vectors is answered by an exact
    ///     scan of the passing vectors, so recall does not drop with selectivity.
    /// - Returns: up to `k` results, nearest first.
    /// - Throws: ``IndexError`` for a query of the wrong dimension, non-finite components, a zero query under
    ///   cosine, or `k`/`ef` below 1.
    /// - Complexity: about `O(ef · m · log n)` distance computations.
    public func search(_ query: [Float], k: Int, ef: Int? = nil, filter: SearchFilter? = nil) throws(IndexError) -> [SearchResult] {
        try query.withUnsafeBufferPointer { (buffer) throws(IndexError) in try search(buffer, k: k, ef: ef, filter: filter) }
    }

    /// Finds the `k` nearest live vectors to `query`; see ``search(_:k:ef:filter:)-([Float],_,_,_)``.
    public func search(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int? = nil, filter: SearchFilter? = nil) throws(IndexError)
        -> [SearchResult]
    {
        try VectorValidation.checkK(k)
        if let ef, ef < 1 { throw .invalidParameter("ef must be at least 1 (got \(ef))") }
        let ef = max(ef ?? configuration.efSearch, k)
        return try structureLock.withReadLock { () throws(IndexError) in
            try withScratch { (scratch) throws(IndexError) in
                let queryNorm = try VectorValidation.prepare(query, dimension: dimension, metric: metric, into: scratch.query)
                let (entry, top, tombstones, live) = state.withLock { ($0.entryPoint, $0.maxLevel, $0.deletedCount, $0.slotOfKey.count) }
                guard entry != Self.noNode, live > 0 else { return [] }
                var kernel = self.kernel
                if let bits = kernel.quantizerBits {
                    // An index too small to have trained its quantiser walks the float32 vectors.
                    if let quantizer, quantizer.bits == bits, codes != nil {
                        scratch.preparedQuery = quantizer.prepare(scratch.query, integers: scratch.integerQuery)
                    } else {
                        kernel = .blasDot
                    }
                }
                let count: Int
                switch filter {
                case nil:
                    let acceptor = AcceptLive(deleted: deleted, hasTombstones: tombstones > 0)
                    count = searchGraph(scratch, queryNorm: queryNorm, entry: entry, top: top, ef: ef, kernel: kernel, acceptor: acceptor)
                case .allowList(let allowed):
                    count = searchAllowList(
                        allowed, scratch, queryNorm: queryNorm, entry: entry, top: top, ef: ef, k: k, live: live, kernel: kernel)
                case .predicate(let predicate):
                    count = searchPredicate(
                        predicate, scratch, queryNorm: queryNorm, entry: entry, top: top, ef: ef, k: k, live: live, kernel: kernel)
                }
                let returned = min(k, count)
                return (0..<returned).map { i in
                    let hit = scratch.ordered[i]
                    return SearchResult(id: keys[Int(hit.slot)], distance: hit.distance, score: metric.score(distance: hit.distance))
                }
            }
        }
    }

    /// The largest number of passing vectors answered by an exact scan rather than a filtered graph walk. A filtered
    /// walk costs about `ef/selectivity`, an exact scan one dot product per passing vector, so they cost the same
    /// near `sqrt(c · ef · n)` passing vectors. On 100k × 384 at ef 64 the scan wins at 5 % and loses at 10 %
    /// (it leaves the cache there); c = 8 puts the switch at 7 % (see Benchmarks/README.md).
    func exactScanLimit(ef: Int, live: Int) -> Int {
        max(1024, Int((8 * Double(ef) * Double(live)).squareRoot()))
    }

    private func searchAllowList(
        _ allowed: Set<UInt64>, _ scratch: SearchScratch, queryNorm: Float, entry: UInt32, top: Int, ef: Int, k: Int, live: Int,
        kernel: DistanceKernel
    ) -> Int {
        if allowed.count <= exactScanLimit(ef: ef, live: live) {
            // Deleted ids are no longer in the map, so every slot found here is live.
            let slots = state.withLock { state in allowed.compactMap { state.slotOfKey[$0] } }
            return slots.isEmpty ? 0 : exactScan(scratch, queryNorm: queryNorm, k: k, slots: slots)
        }
        // Too many ids to map up front; the walk tests only the nodes it visits.
        let acceptor = AcceptSet(deleted: deleted, keys: keys, allowed: allowed)
        return searchGraph(scratch, queryNorm: queryNorm, entry: entry, top: top, ef: ef, kernel: kernel, acceptor: acceptor)
    }

    private func searchPredicate(
        _ predicate: @escaping @Sendable (UInt64) -> Bool, _ scratch: SearchScratch, queryNorm: Float, entry: UInt32, top: Int, ef: Int,
        k: Int, live: Int, kernel: DistanceKernel
    ) -> Int {
        // Work from the id map: it holds only published, live nodes (a slot still being inserted is not in it).
        let published = state.withLock { $0.slotOfKey }
        // Its iteration order is effectively random, so its first entries are a fair sample for the selectivity.
        var sampled = 0
        var passed = 0
        for (id, _) in published.prefix(512) {
            sampled += 1
            if predicate(id) { passed += 1 }
        }
        let estimate = sampled == 0 ? 0 : Int((Double(passed) / Double(sampled) * Double(live)).rounded(.up))
        if estimate <= exactScanLimit(ef: ef, live: live) {
            let passing = published.lazy.filter { predicate($0.key) }.map(\.value)
            return exactScan(scratch, queryNorm: queryNorm, k: k, slots: passing)
        }
        let acceptor = AcceptPredicate(deleted: deleted, keys: keys, predicate: predicate)
        return searchGraph(scratch, queryNorm: queryNorm, entry: entry, top: top, ef: ef, kernel: kernel, acceptor: acceptor)
    }

    /// Exact k-NN over `slots` (live slots): gathered in blocks and scored with one `sgemv` per block. Leaves the
    /// `k` best in `scratch.ordered`, nearest first, and returns their number.
    func exactScan<S: Sequence<UInt32>>(_ scratch: SearchScratch, queryNorm: Float, k: Int, slots: S) -> Int {
        scratch.results.removeAll()
        let block = SearchScratch.bruteForceBlock
        var pending = 0
        func flush() {
            for i in 0..<pending {
                (scratch.gathered + i * dimension).update(from: vector(at: scratch.gatheredSlots[i]), count: dimension)
            }
            Distance.dots(rows: scratch.gathered, count: pending, dimension: dimension, x: scratch.query, into: scratch.dots)
            for i in 0..<pending {
                let slot = scratch.gatheredSlots[i]
                let d = metric.distance(dot: scratch.dots[i], normA: queryNorm, normB: norms[Int(slot)])
                if scratch.results.count < k {
                    scratch.results.push(-d, slot)
                } else if d < -scratch.results.top.distance {
                    scratch.results.pop()
                    scratch.results.push(-d, slot)
                }
            }
            pending = 0
        }
        for slot in slots {
            scratch.gatheredSlots[pending] = slot
            pending += 1
            if pending == block { flush() }
        }
        flush()
        return scratch.drainResultsAscending()
    }

    /// Greedy descent through the upper layers, then a best-first search of level 0. Leaves the accepted results
    /// in `scratch.ordered`, nearest first, and returns their number. With a quantised kernel the walk scores the
    /// codes and its candidates are re-ranked on the float32 vectors.
    @inline(__always)
    func searchGraph<A: SlotAcceptor>(
        _ scratch: SearchScratch, queryNorm: Float, entry: UInt32, top: Int, ef: Int, kernel: DistanceKernel, acceptor: A
    ) -> Int {
        var current = entry
        let quantised = kernel.quantizerBits != nil
        var currentDistance =
            quantised
            ? approximateDistance(scratch, norm: queryNorm, to: current, kernel: kernel) : distance(scratch.query, norm: queryNorm, to: current)
        if top > 0 {
            for level in stride(from: top, to: 0, by: -1) {
                greedyStep(
                    scratch.query, queryNorm: queryNorm, level: level, current: &current, distance: &currentDistance, kernel: kernel,
                    scratch: scratch)
            }
        }
        searchLayer(
            scratch.query, queryNorm: queryNorm, entry: current, entryDistance: currentDistance, level: 0, ef: ef, kernel: kernel,
            scratch: scratch, acceptor: acceptor)
        let count = scratch.drainResultsAscending()
        if quantised { rerank(scratch, queryNorm: queryNorm, count: count) }
        return count
    }

    /// Moves `current` to its nearest neighbour on `level` until no neighbour is closer.
    @inline(__always)
    func greedyStep(
        _ query: UnsafePointer<Float>, queryNorm: Float, level: Int, current: inout UInt32, distance currentDistance: inout Float,
        kernel: DistanceKernel = .blasDot, scratch: SearchScratch
    ) {
        var changed = true
        while changed {
            changed = false
            let count = copyNeighbours(of: current, level: level, into: scratch.neighbours)
            for i in 0..<count {
                let candidate = scratch.neighbours[i]
                let d: Float
                if kernel.quantizerBits != nil {
                    if i + 1 < count { prefetchCodes(scratch.neighbours[i + 1]) }
                    d = approximateDistance(scratch, norm: queryNorm, to: candidate, kernel: kernel)
                } else {
                    if i + 1 < count { Distance.prefetch(vector(at: scratch.neighbours[i + 1]), dimension: dimension) }
                    d = distance(query, norm: queryNorm, to: candidate)
                }
                if d < currentDistance {
                    currentDistance = d
                    current = candidate
                    changed = true
                }
            }
        }
    }

    /// Copies the neighbour list of `slot` on `level` and returns its length.
    ///
    /// Readers take no lock: writers publish every word with a release store (``publishLinks(_:from:count:)``),
    /// so each id read here names a node whose data is visible, and a list caught half rewritten still holds only
    /// real nodes, which is harmless to a search.
    @inline(__always)
    func copyNeighbours(of slot: UInt32, level: Int, into out: UnsafeMutablePointer<UInt32>) -> Int {
        let list = links(of: slot, level: level)
        let count = min(Int(omnifin_load_acquire_u32(list)), level == 0 ? maxM0 : maxM)
        for i in 0..<count { out[i] = omnifin_load_acquire_u32(list + 1 + i) }
        return count
    }

    /// Writes a neighbour list for lock-free readers: the ids first, then the count. Callers hold the node's lock.
    @inline(__always)
    func publishLinks(_ list: UnsafeMutablePointer<UInt32>, from source: UnsafePointer<UInt32>, count: Int) {
        for i in 0..<count { omnifin_store_release_u32(list + 1 + i, source[i]) }
        omnifin_store_release_u32(list, UInt32(count))
    }

    /// Best-first search of one layer from `entry` with a candidate list of `ef`. Leaves up to `ef` accepted nodes
    /// in `scratch.results` (a max-heap of negated distances).
    ///
    /// Rejected nodes (tombstones, filtered out) are still walked through, so the graph stays connected for the
    /// search; while the results are not full, the walk goes on past the point where an unfiltered search would stop.
    func searchLayer<A: SlotAcceptor>(
        _ query: UnsafePointer<Float>, queryNorm: Float, entry: UInt32, entryDistance: Float, level: Int, ef: Int, kernel: DistanceKernel,
        scratch: SearchScratch, acceptor: A
    ) {
        scratch.beginVisit()
        let visited = scratch.visited
        let generation = scratch.generation
        scratch.candidates.removeAll()
        scratch.results.removeAll()
        visited[Int(entry)] = generation
        scratch.candidates.push(entryDistance, entry)
        var bound = Float.infinity
        if acceptor.accepts(entry) {
            scratch.results.push(-entryDistance, entry)
            bound = entryDistance
        }
        let neighbours = scratch.neighbours
        let dots = scratch.dots
        let norms = self.norms
        let dimension = self.dimension
        while !scratch.candidates.isEmpty {
            let nearest = scratch.candidates.top
            if nearest.distance > bound && (scratch.results.count >= ef || acceptor.acceptsAll) { break }
            scratch.candidates.pop()
            // The next expansion is most likely the new nearest candidate: start fetching its list now.
            if !scratch.candidates.isEmpty { omnifin_prefetch(links(of: scratch.candidates.top.slot, level: level)) }

            // Collect the unvisited neighbours and start fetching their vectors before any distance is computed.
            let listed = copyNeighbours(of: nearest.slot, level: level, into: neighbours)
            var fresh = 0
            for i in 0..<listed {
                let slot = neighbours[i]
                if visited[Int(slot)] == generation { continue }
                visited[Int(slot)] = generation
                if kernel.quantizerBits != nil {
                    prefetchCodes(slot)
                } else {
                    // One line is enough: the hardware prefetcher follows the sequential read of the rest
                    // (measured against four lines per vector and against a sliding window; see Benchmarks/README.md).
                    omnifin_prefetch(vector(at: slot))
                }
                neighbours[fresh] = slot
                fresh += 1
            }
            switch kernel {
            case .blasDot:
                for i in 0..<fresh { dots[i] = Distance.dot(query, vector(at: neighbours[i]), dimension: dimension) }
            case .blasGatheredGemv:
                let gathered = scratch.gathered
                for i in 0..<fresh { (gathered + i * dimension).update(from: vector(at: neighbours[i]), count: dimension) }
                Distance.dots(rows: gathered, count: fresh, dimension: dimension, x: query, into: dots)
            case .simd:
                for i in 0..<fresh { dots[i] = SIMDDistance.dot(query, vector(at: neighbours[i]), dimension: dimension) }
            case .int8:
                let integers = scratch.integerQuery
                let prepared = scratch.preparedQuery
                for i in 0..<fresh { dots[i] = ScalarQuantizer.dot8(integers, prepared, row: codeRow(neighbours[i]), dimension: dimension) }
            case .int4:
                let integers = scratch.integerQuery
                let prepared = scratch.preparedQuery
                for i in 0..<fresh { dots[i] = ScalarQuantizer.dot4(integers, prepared, row: codeRow(neighbours[i]), dimension: dimension) }
            }
            for i in 0..<fresh {
                let slot = neighbours[i]
                let d = metric.distance(dot: dots[i], normA: queryNorm, normB: norms[Int(slot)])
                if scratch.results.count < ef || d < bound {
                    scratch.candidates.push(d, slot)
                    if acceptor.accepts(slot) {
                        scratch.results.push(-d, slot)
                        if scratch.results.count > ef { scratch.results.pop() }
                        bound = -scratch.results.top.distance
                    }
                }
            }
        }
    }
}
