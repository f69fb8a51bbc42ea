import CBLAS
import Synchronization

extension HNSWIndex {
    /// Deletes `id`. Its node stays in the graph as a tombstone (searches route through it but never return it)
    /// until the next repair, which runs by itself once tombstones pass ``HNSWConfiguration/repairThreshold``.
    ///
    /// - Throws: ``IndexError`` `.unknownID` when `id` is not present.
    public func remove(id: UInt64) throws(IndexError) {
        try writeGate.withReadLock { () throws(IndexError) in try markDeleted(id) }
        repairIfNeeded()
    }

    /// Turns the node of `id` into a tombstone. Callers hold `writeGate` shared.
    func markDeleted(_ id: UInt64) throws(IndexError) {
        let slot = try state.withLock { (state) throws(IndexError) -> UInt32 in
            guard let slot = state.slotOfKey.removeValue(forKey: id) else {
                throw IndexError(.unknownID, "id \(id) is not in the index")
            }
            state.deletedCount += 1
            return slot
        }
        structureLock.withReadLock {
            nodeLocks.lock(slot)
            omnifin_store_relaxed_u8(deleted + Int(slot), 1)
            nodeLocks.unlock(slot)
        }
    }

    func repairIfNeeded() {
        let threshold = configuration.repairThreshold
        guard threshold > 0 else { return }
        let due = state.withLock { state in
            state.deletedCount > 0 && Double(state.deletedCount) >= threshold * Double(state.deletedCount + state.slotOfKey.count)
        }
        if due { repair() }
    }

    /// Removes every tombstone from the graph: each neighbour list that points at a deleted node is re-selected,
    /// with the heuristic, from its live neighbours and the live neighbours of its deleted ones (searching the
    /// graph when too few remain); the deleted slots are then freed for reuse.
    ///
    /// Searches and writes wait while it runs.
    /// - Complexity: `O(n · m²)` distance computations in the worst case, far fewer when few nodes were deleted.
    public func repair() {
        writeGate.withWriteLock {
            structureLock.withWriteLock {
                withScratch { repairLocked(scratch: $0) }
            }
        }
    }

    private func repairLocked(scratch: SearchScratch) {
        let (highWater, tombstones, live) = state.withLock { ($0.highWater, $0.deletedCount, $0.slotOfKey.count) }
        guard tombstones > 0 else { return }
        if live == 0 {
            for slot in 0..<highWater { clearSlot(slot) }
            state.withLock { state in
                state.entryPoint = Self.noNode
                state.maxLevel = -1
                state.highWater = 0
                state.freeSlots = []
                state.deletedCount = 0
            }
            return
        }
        // A live entry point first, so that searches run while relinking start from a node that stays.
        var (entry, top) = state.withLock { ($0.entryPoint, $0.maxLevel) }
        if entry == Self.noNode || deleted[Int(entry)] != 0 {
            entry = Self.noNode
            top = -1
            for slot in 0..<highWater where levels[slot] > top && deleted[slot] == 0 {
                entry = UInt32(slot)
                top = Int(levels[slot])
            }
        }
        for slot in 0..<highWater where levels[slot] >= 0 && deleted[slot] == 0 {
            for level in 0...Int(levels[slot]) {
                relink(UInt32(slot), level: level, entry: entry, top: top, scratch: scratch)
            }
        }
        // Relinking re-selects lists but adds no reverse links, so a live node whose incoming links all came from
        // deleted nodes could be left unreachable (as could one the build left so). Link each back from its nearest
        // reachable neighbours; a few passes settle it, since a forced link can only strand nodes that had one
        // incoming link.
        for _ in 0..<4 {
            let orphans = unreachableLocked(from: entry)
            if orphans.isEmpty { break }
            for orphan in orphans { reattach(orphan, entry: entry, top: top, scratch: scratch) }
        }
        var freed = [UInt32]()
        for slot in 0..<highWater where levels[slot] >= 0 && deleted[slot] != 0 {
            clearSlot(slot)
            freed.append(UInt32(slot))
        }
        state.withLock { state in
            state.entryPoint = entry
            state.maxLevel = top
            state.freeSlots.append(contentsOf: freed)
            state.deletedCount = 0
        }
    }

    /// Frees a slot and wipes what it held, so a deleted document's id and vector do not linger in snapshots.
    private func clearSlot(_ slot: Int) {
        upper[slot]?.deallocate()
        upper[slot] = nil
        levels[slot] = -1
        deleted[slot] = 0
        keys[slot] = 0
        norms[slot] = 0
        (vectors + slot * dimension).update(repeating: 0, count: dimension)
        if let codes { (codes + slot * codeStride).initializeMemory(as: UInt8.self, repeating: 0, count: codeStride) }
        (level0 + slot * level0Stride).update(repeating: 0, count: level0Stride)
    }

    /// Links an unreachable live node back into level 0: its nearest live nodes (found the way an insert finds them)
    /// get a reverse link to it, and if the heuristic prunes every one of those, the nearest takes it in place of
    /// its farthest neighbour.
    private func reattach(_ orphan: UInt32, entry: UInt32, top: Int, scratch: SearchScratch) {
        let base = UnsafePointer(vector(at: orphan))
        let baseNorm = norms[Int(orphan)]
        var current = entry
        var currentDistance = distance(base, norm: baseNorm, to: current)
        if top > 0 {
            for l in stride(from: top, to: 0, by: -1) {
                greedyStep(base, queryNorm: baseNorm, level: l, current: &current, distance: &currentDistance, scratch: scratch)
            }
        }
        searchLayer(
            base, queryNorm: baseNorm, entry: current, entryDistance: currentDistance, level: 0, ef: configuration.efConstruction,
            kernel: .blasDot, scratch: scratch, acceptor: AcceptLive(deleted: deleted, hasTombstones: true))
        let found = scratch.drainResultsAscending()
        let nearest = (0..<found).map { scratch.ordered[$0].slot }.filter { $0 != orphan }.prefix(maxM)
        guard let closest = nearest.first else { return }
        for neighbour in nearest { connect(neighbour, to: orphan, level: 0, scratch: scratch) }
        func linked(_ node: UInt32) -> Bool {
            let list = links(of: node, level: 0)
            return (0..<Int(list[0])).contains { list[1 + $0] == orphan }
        }
        guard !nearest.contains(where: linked) else { return }
        // Every reverse link was pruned: make room in the closest node's list.
        let list = links(of: closest, level: 0)
        let count = Int(list[0])
        if count < maxM0 {
            list[1 + count] = orphan
            list[0] = UInt32(count + 1)
            return
        }
        scoreSlots(list + 1, count: count, from: vector(at: closest), norm: norms[Int(closest)], scratch: scratch)
        let farthest = (0..<count).max { scratch.dots[$0] < scratch.dots[$1] }!
        list[1 + farthest] = orphan
    }

    /// Re-selects the neighbour list of `slot` on `level` if it points at a tombstone.
    private func relink(_ slot: UInt32, level: Int, entry: UInt32, top: Int, scratch: SearchScratch) {
        let list = links(of: slot, level: level)
        let count = Int(list[0])
        var touched = false
        for i in 0..<count where deleted[Int(list[1 + i])] != 0 {
            touched = true
            break
        }
        guard touched else { return }
        let limit = level == 0 ? maxM0 : maxM

        // Live neighbours, then the live nodes behind each deleted neighbour (two hops through tombstones).
        var pool = [UInt32]()
        var seen: Set<UInt32> = [slot]
        func consider(_ node: UInt32, depth: Int) {
            if deleted[Int(node)] == 0 {
                if seen.insert(node).inserted { pool.append(node) }
                return
            }
            guard depth < 2, seen.insert(node).inserted else { return }
            let behind = links(of: node, level: level)
            for j in 0..<Int(behind[0]) { consider(behind[1 + j], depth: depth + 1) }
        }
        for i in 0..<count { consider(list[1 + i], depth: 0) }

        let base = UnsafePointer(vector(at: slot))
        let baseNorm = norms[Int(slot)]
        if pool.count < limit / 2, Int(levels[Int(entry)]) >= level {
            // Too little left nearby: find neighbours the way an insert does.
            var current = entry
            var currentDistance = distance(base, norm: baseNorm, to: current)
            if top > level {
                for l in stride(from: top, to: level, by: -1) {
                    greedyStep(base, queryNorm: baseNorm, level: l, current: &current, distance: &currentDistance, scratch: scratch)
                }
            }
            searchLayer(
                base, queryNorm: baseNorm, entry: current, entryDistance: currentDistance, level: level, ef: configuration.efConstruction,
                kernel: .blasDot, scratch: scratch, acceptor: AcceptLive(deleted: deleted, hasTombstones: true))
            let found = scratch.drainResultsAscending()
            for i in 0..<found where seen.insert(scratch.ordered[i].slot).inserted { pool.append(scratch.ordered[i].slot) }
        }

        // Score the pool in blocks, sort nearest first, and select.
        var scored = [Candidate]()
        scored.reserveCapacity(pool.count)
        let block = SearchScratch.bruteForceBlock
        pool.withUnsafeBufferPointer { slots in
            var start = 0
            while start < slots.count {
                let size = min(block, slots.count - start)
                scoreSlots(slots.baseAddress! + start, count: size, from: base, norm: baseNorm, scratch: scratch)
                for i in 0..<size { scored.append(Candidate(distance: scratch.dots[i], slot: slots[start + i])) }
                start += size
            }
        }
        scored.sort { $0.distance < $1.distance }
        scratch.ensureOrderedCapacity(scored.count)
        for (i, candidate) in scored.enumerated() { scratch.ordered[i] = candidate }
        let kept = selectNeighbours(
            base: base, baseNorm: baseNorm, candidates: scratch.ordered, count: scored.count, maxCount: limit, into: scratch.reselected,
            scratch: scratch)
        publishLinks(list, from: scratch.reselected, count: kept)
    }
}
