import Synchronization

extension HNSWIndex {
    /// Checks the graph's structural invariants and returns every violation found (empty when sound): lists within
    /// their capacity, no self-links, no duplicate links, links only to nodes that exist on that level, the id map
    /// and the tombstone count consistent with the per-slot flags, and an entry point on the top level.
    ///
    /// Used by the tests, and callable from a debug build when a graph looks wrong.
    /// - Complexity: O(n · m).
    func invariantViolations() -> [String] {
        writeGate.withWriteLock {
            structureLock.withReadLock {
                var problems = [String]()
                let (highWater, slotOfKey, tombstones, entry, top, free) = state.withLock {
                    ($0.highWater, $0.slotOfKey, $0.deletedCount, $0.entryPoint, $0.maxLevel, Set($0.freeSlots))
                }
                var liveSeen = 0
                var deletedSeen = 0
                var highest = -1
                for slot in 0..<highWater {
                    let level = Int(levels[slot])
                    if level < 0 {
                        if !free.contains(UInt32(slot)) { problems.append("slot \(slot) holds no node but is not free") }
                        continue
                    }
                    highest = max(highest, level)
                    if deleted[slot] != 0 {
                        deletedSeen += 1
                    } else {
                        liveSeen += 1
                        if slotOfKey[keys[slot]] != UInt32(slot) { problems.append("live slot \(slot) is not mapped from its id \(keys[slot])") }
                    }
                    for l in 0...level {
                        let list = links(of: UInt32(slot), level: l)
                        let count = Int(list[0])
                        let limit = l == 0 ? maxM0 : maxM
                        if count > limit { problems.append("slot \(slot) has \(count) links on level \(l), more than \(limit)") }
                        var seen = Set<UInt32>()
                        for i in 0..<min(count, limit) {
                            let target = list[1 + i]
                            if target == UInt32(slot) { problems.append("slot \(slot) links to itself on level \(l)") }
                            if !seen.insert(target).inserted { problems.append("slot \(slot) links twice to \(target) on level \(l)") }
                            if Int(target) >= highWater || Int(levels[Int(target)]) < l {
                                problems.append("slot \(slot) links to \(target), which is not on level \(l)")
                            }
                        }
                    }
                }
                if liveSeen != slotOfKey.count { problems.append("\(liveSeen) live slots but \(slotOfKey.count) mapped ids") }
                if deletedSeen != tombstones { problems.append("\(deletedSeen) tombstones but the count says \(tombstones)") }
                if liveSeen + deletedSeen > 0 {
                    if entry == Self.noNode || Int(levels[Int(entry)]) != top || top != highest {
                        problems.append("entry point \(entry) at level \(top) is not on the top level \(highest)")
                    }
                }
                return problems
            }
        }
    }
}

extension HNSWIndex {
    /// Live nodes that a walk of level 0 from the entry point cannot reach (such a node is never returned by an
    /// unfiltered search).
    /// - Complexity: O(n · m).
    func unreachableFromEntry() -> [UInt64] {
        writeGate.withWriteLock {
            structureLock.withReadLock { unreachableLocked(from: state.withLock { $0.entryPoint }).map { keys[Int($0)] } }
        }
    }

    /// Live nodes that a level-0 walk from `entry` cannot reach. Callers hold `structureLock`.
    func unreachableLocked(from entry: UInt32) -> [UInt32] {
        let highWater = state.withLock { $0.highWater }
        guard entry != Self.noNode else { return [] }
        var reached = [Bool](repeating: false, count: highWater)
        var queue: [UInt32] = [entry]
        reached[Int(entry)] = true
        var head = 0
        while head < queue.count {
            let node = queue[head]
            head += 1
            let list = links(of: node, level: 0)
            for i in 0..<Int(list[0]) where !reached[Int(list[1 + i])] {
                reached[Int(list[1 + i])] = true
                queue.append(list[1 + i])
            }
        }
        return (0..<highWater).filter { levels[$0] >= 0 && deleted[$0] == 0 && !reached[$0] }.map(UInt32.init)
    }
}
