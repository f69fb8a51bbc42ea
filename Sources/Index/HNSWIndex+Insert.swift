import CBLAS
import Dispatch
import Synchronization

extension HNSWIndex {
    /// Adds `vector` under `id`.
    ///
    /// - Throws: ``IndexError`` `.duplicateID` when `id` is already present (use ``update(_:id:)``), or a validation
    ///   error for a vector of the wrong dimension, with non-finite components, or zero under cosine.
    /// - Complexity: about `O(efConstruction · m · log n)` distance computations.
    public func add(_ vector: [Float], id: UInt64) throws(IndexError) {
        guard vector.count == dimension else { throw .dimensionMismatch(expected: dimension, got: vector.count) }
        try add(contentsOf: vector, ids: [id], threads: 1)
    }

    /// Adds many vectors, `ids.count` rows of ``HNSWConfiguration/dimension`` floats, inserting on `threads`
    /// threads. Nothing is added unless every vector and id is valid.
    ///
    /// - Throws: ``IndexError`` as ``add(_:id:)`` does, naming the offending row.
    public func add(contentsOf vectors: [Float], ids: [UInt64], threads: Int = 1) throws(IndexError) {
        try vectors.withUnsafeBufferPointer { (buffer) throws(IndexError) in try add(contentsOf: buffer, ids: ids, threads: threads) }
    }

    /// Adds many vectors from a buffer; see ``add(contentsOf:ids:threads:)-([Float],_,_)``.
    public func add(contentsOf vectors: UnsafeBufferPointer<Float>, ids: [UInt64], threads: Int = 1) throws(IndexError) {
        guard vectors.count == ids.count * dimension else {
            throw IndexError(
                .dimensionMismatch, "\(vectors.count) floats do not make \(ids.count) vectors of dimension \(dimension)")
        }
        guard threads >= 1 else { throw .invalidParameter("threads must be at least 1 (got \(threads))") }
        if ids.isEmpty { return }
        let prepared = try PreparedBatch(vectors, count: ids.count, dimension: dimension, metric: metric)
        defer { prepared.deallocate() }
        var seen = Set<UInt64>(minimumCapacity: ids.count)
        for id in ids where !seen.insert(id).inserted {
            throw IndexError(.duplicateID, "id \(id) appears twice in the batch")
        }
        try writeGate.withReadLock { () throws(IndexError) in
            trainQuantizerIfDue(adding: prepared, count: ids.count)
            let slots = try reserveSlots(for: ids)
            let highest = Int(slots.max()!)
            if structureLock.withReadLock({ highest >= capacity }) { structureLock.withWriteLock { grow(to: highest + 1) } }
            let job = InsertJob(index: self, batch: prepared, ids: ids, slots: slots)
            structureLock.withReadLock {
                let workers = min(threads, ids.count)
                if workers == 1 {
                    withScratch { job.run(scratch: $0) }
                } else {
                    DispatchQueue.concurrentPerform(iterations: workers) { _ in job.index.withScratch { job.run(scratch: $0) } }
                }
            }
        }
    }

    /// Replaces the vector of `id`. The old node becomes a tombstone and a new node is linked.
    ///
    /// - Throws: ``IndexError`` `.unknownID` when `id` is not present, or a validation error for the vector.
    public func update(_ vector: [Float], id: UInt64) throws(IndexError) {
        let prepared = try vector.withUnsafeBufferPointer { (buffer) throws(IndexError) in
            try PreparedBatch(buffer, count: 1, dimension: dimension, metric: metric)
        }
        defer { prepared.deallocate() }
        try writeGate.withReadLock { () throws(IndexError) in
            try markDeleted(id)
            let slot = try reserveSlots(for: [id])[0]
            if structureLock.withReadLock({ Int(slot) >= capacity }) { structureLock.withWriteLock { grow(to: Int(slot) + 1) } }
            structureLock.withReadLock { withScratch { insert(row: 0, of: prepared, id: id, slot: slot, scratch: $0) } }
        }
        repairIfNeeded()
    }

    /// Takes a slot for each id (free slots first), or throws when an id is present or being inserted.
    private func reserveSlots(for ids: [UInt64]) throws(IndexError) -> [UInt32] {
        try state.withLock { (state) throws(IndexError) -> [UInt32] in
            for id in ids where state.slotOfKey[id] != nil || state.pendingKeys.contains(id) {
                throw IndexError(.duplicateID, "id \(id) is already in the index; use update to replace its vector")
            }
            var slots = [UInt32]()
            slots.reserveCapacity(ids.count)
            for id in ids {
                let slot: UInt32
                if let free = state.freeSlots.popLast() {
                    slot = free
                } else {
                    slot = UInt32(state.highWater)
                    state.highWater += 1
                }
                state.pendingKeys.insert(id)
                slots.append(slot)
            }
            return slots
        }
    }

    /// Writes one prepared vector into its slot, links it into the graph, then publishes its id.
    /// Callers hold `writeGate` and `structureLock` shared.
    fileprivate func insert(row: Int, of batch: PreparedBatch, id: UInt64, slot: UInt32, scratch: SearchScratch) {
        let index = Int(slot)
        vector(at: slot).update(from: batch.vectors + row * dimension, count: dimension)
        if let quantizer, codes != nil { quantizer.encode(vector(at: slot), into: codeRow(slot)) }
        norms[index] = batch.norms[row]
        keys[index] = id
        let level = randomLevel(for: id)
        if level > 0 {
            let list = UnsafeMutablePointer<UInt32>.allocate(capacity: level * upperStride)
            for l in 0..<level { list[l * upperStride] = 0 }
            upper[index] = list
        }
        level0[index * level0Stride] = 0
        deleted[index] = 0
        levels[index] = Int8(level)
        link(slot, level: level, scratch: scratch)
        state.withLock { state in
            state.pendingKeys.remove(id)
            state.slotOfKey[id] = slot
        }
    }

    /// Connects a node whose vector is stored into every layer up to `level`.
    func link(_ slot: UInt32, level: Int, scratch: SearchScratch) {
        let query = UnsafePointer(vector(at: slot))
        let queryNorm = norms[Int(slot)]
        entryLock.lock()
        let (entry, top, tombstones) = state.withLock { ($0.entryPoint, $0.maxLevel, $0.deletedCount) }
        if entry == Self.noNode {
            state.withLock { state in
                state.entryPoint = slot
                state.maxLevel = level
            }
            entryLock.unlock()
            return
        }
        let raisesTop = level > top
        if !raisesTop { entryLock.unlock() }

        var current = entry
        var currentDistance = distance(query, norm: queryNorm, to: current)
        if top > level {
            for l in stride(from: top, to: level, by: -1) {
                greedyStep(query, queryNorm: queryNorm, level: l, current: &current, distance: &currentDistance, scratch: scratch)
            }
        }
        let acceptor = AcceptLive(deleted: deleted, hasTombstones: tombstones > 0)
        for l in stride(from: min(level, top), through: 0, by: -1) {
            searchLayer(
                query, queryNorm: queryNorm, entry: current, entryDistance: currentDistance, level: l, ef: configuration.efConstruction,
                kernel: .blasDot, scratch: scratch, acceptor: acceptor)
            var found = scratch.drainResultsAscending()
            if found == 0 {
                // Every node reached was a tombstone: hang the node on the one it came from.
                scratch.ordered[0] = Candidate(distance: currentDistance, slot: current)
                found = 1
            }
            current = scratch.ordered[0].slot
            currentDistance = scratch.ordered[0].distance
            let chosen = selectNeighbours(
                base: query, baseNorm: queryNorm, candidates: scratch.ordered, count: found, maxCount: maxM, into: scratch.selected,
                scratch: scratch)
            nodeLocks.lock(slot)
            let own = links(of: slot, level: l)
            publishLinks(own, from: scratch.selected, count: chosen)
            nodeLocks.unlock(slot)
        }
        // Only now make the node reachable: a search that found it through a reverse link on an upper level
        // must find its lists below already written.
        for l in stride(from: min(level, top), through: 0, by: -1) {
            let chosen = copyNeighbours(of: slot, level: l, into: scratch.selected)
            for i in 0..<chosen { connect(scratch.selected[i], to: slot, level: l, scratch: scratch) }
        }
        if raisesTop {
            state.withLock { state in
                state.entryPoint = slot
                state.maxLevel = level
            }
            entryLock.unlock()
        }
    }

    /// Adds the reverse link `neighbour → slot`; a full list is re-selected with the heuristic rather than
    /// dropping the new link.
    func connect(_ neighbour: UInt32, to slot: UInt32, level: Int, scratch: SearchScratch) {
        let limit = level == 0 ? maxM0 : maxM
        nodeLocks.lock(neighbour)
        defer { nodeLocks.unlock(neighbour) }
        let list = links(of: neighbour, level: level)
        let count = Int(list[0])
        for i in 0..<count where list[1 + i] == slot { return }
        if count < limit {
            omnifin_store_release_u32(list + 1 + count, slot)
            omnifin_store_release_u32(list, UInt32(count + 1))
            return
        }
        scratch.gatheredSlots.update(from: list + 1, count: count)
        scratch.gatheredSlots[count] = slot
        let total = count + 1
        let base = UnsafePointer(vector(at: neighbour))
        let baseNorm = norms[Int(neighbour)]
        scoreSlots(scratch.gatheredSlots, count: total, from: base, norm: baseNorm, scratch: scratch)
        scratch.ensureOrderedCapacity(total)
        for i in 0..<total { scratch.ordered[i] = Candidate(distance: scratch.dots[i], slot: scratch.gatheredSlots[i]) }
        var ordered = UnsafeMutableBufferPointer(start: scratch.ordered, count: total)
        ordered.sort { $0.distance < $1.distance }
        let kept = selectNeighbours(
            base: base, baseNorm: baseNorm, candidates: scratch.ordered, count: total, maxCount: limit, into: scratch.reselected,
            scratch: scratch)
        publishLinks(list, from: scratch.reselected, count: kept)
    }

    /// Distances from `base` to `count` slots, written to `scratch.dots`: the vectors are gathered into one block
    /// and scored with a single `sgemv`.
    func scoreSlots(_ slots: UnsafePointer<UInt32>, count: Int, from base: UnsafePointer<Float>, norm: Float, scratch: SearchScratch) {
        for i in 0..<count { (scratch.gathered + i * dimension).update(from: vector(at: slots[i]), count: dimension) }
        Distance.dots(rows: scratch.gathered, count: count, dimension: dimension, x: base, into: scratch.dots)
        for i in 0..<count {
            scratch.dots[i] = metric.distance(dot: scratch.dots[i], normA: norm, normB: norms[Int(slots[i])])
        }
    }

    /// The neighbour-selection heuristic of HNSW: walking the candidates nearest first, keep one only if no kept
    /// neighbour is closer to it than the base is. It spreads the links in all directions, which keeps the graph
    /// navigable.
    ///
    /// Candidates are scored against the kept neighbours a block at a time with one `sgemm`; a candidate is
    /// compared with neighbours kept earlier in its own block by `sdot`.
    ///
    /// - Returns: the number of slots written to `out`, at most `maxCount`.
    func selectNeighbours(
        base: UnsafePointer<Float>, baseNorm: Float, candidates: UnsafeMutablePointer<Candidate>, count: Int, maxCount: Int,
        into out: UnsafeMutablePointer<UInt32>, scratch: SearchScratch
    ) -> Int {
        if count <= maxCount {
            for i in 0..<count { out[i] = candidates[i].slot }
            return count
        }
        let kept = scratch.keptVectors
        let keptNorms = scratch.keptNorms
        let block = scratch.blockVectors
        let pair = scratch.pairDots
        var keptCount = 0
        var start = 0
        while start < count && keptCount < maxCount {
            let size = min(SearchScratch.heuristicBlock, count - start)
            for j in 0..<size { (block + j * dimension).update(from: vector(at: candidates[start + j].slot), count: dimension) }
            let keptBefore = keptCount
            Distance.pairwiseDots(block, count: size, kept, count: keptBefore, dimension: dimension, into: pair)
            for j in 0..<size {
                let candidate = candidates[start + j]
                let candidateNorm = norms[Int(candidate.slot)]
                let row = block + j * dimension
                var good = true
                for r in 0..<keptBefore
                where metric.distance(dot: pair[j * keptBefore + r], normA: candidateNorm, normB: keptNorms[r]) < candidate.distance {
                    good = false
                    break
                }
                if good {
                    for r in keptBefore..<keptCount {
                        let d = metric.distance(
                            dot: Distance.dot(row, kept + r * dimension, dimension: dimension), normA: candidateNorm, normB: keptNorms[r])
                        if d < candidate.distance {
                            good = false
                            break
                        }
                    }
                }
                guard good else { continue }
                out[keptCount] = candidate.slot
                (kept + keptCount * dimension).update(from: row, count: dimension)
                keptNorms[keptCount] = candidateNorm
                keptCount += 1
                if keptCount == maxCount { break }
            }
            start += size
        }
        return keptCount
    }
}

/// Validated (and, under cosine, normalised) copies of vectors about to be inserted, with their squared norms.
struct PreparedBatch {
    let vectors: UnsafeMutablePointer<Float>
    let norms: UnsafeMutablePointer<Float>

    init(_ source: UnsafeBufferPointer<Float>, count: Int, dimension: Int, metric: Metric) throws(IndexError) {
        // Every caller goes through here, so no vector of the wrong length reaches the unchecked slicing below.
        guard source.count == count * dimension else {
            throw count == 1
                ? .dimensionMismatch(expected: dimension, got: source.count)
                : IndexError(.dimensionMismatch, "\(source.count) floats do not make \(count) vectors of dimension \(dimension)")
        }
        vectors = .allocate(capacity: max(1, count * dimension))
        norms = .allocate(capacity: max(1, count))
        for row in 0..<count {
            let slice = UnsafeBufferPointer(rebasing: source[row * dimension..<(row + 1) * dimension])
            do {
                norms[row] = try VectorValidation.prepare(slice, dimension: dimension, metric: metric, into: vectors + row * dimension)
            } catch {
                deallocate()
                throw count == 1 ? error : IndexError(error.code, "row \(row): \(error.message)")
            }
        }
    }

    func deallocate() {
        vectors.deallocate()
        norms.deallocate()
    }
}

/// The rows of one bulk insert, handed out to worker threads one at a time.
private final class InsertJob: @unchecked Sendable {
    let index: HNSWIndex
    let batch: PreparedBatch
    let ids: [UInt64]
    let slots: [UInt32]
    let next = Atomic<Int>(0)

    init(index: HNSWIndex, batch: PreparedBatch, ids: [UInt64], slots: [UInt32]) {
        self.index = index
        self.batch = batch
        self.ids = ids
        self.slots = slots
    }

    func run(scratch: SearchScratch) {
        while true {
            let row = next.wrappingAdd(1, ordering: .relaxed).oldValue
            if row >= ids.count { return }
            index.insert(row: row, of: batch, id: ids[row], slot: slots[row], scratch: scratch)
        }
    }
}
