/// Combines ranked lists from several retrievers into one.
enum HybridFusion {
    struct Ranked: Sendable {
        var key: UInt64
        var score: Double
    }

    struct Fused: Sendable {
        var key: UInt64
        var score: Double
        var ranks: [Int?]
        var scores: [Double?]
    }

    /// Fuses `lists` (each best first) and returns the best `k`, ties broken by key.
    static func fuse(_ lists: [[Ranked]], fusion: Fusion, k: Int) -> [Fused] {
        // Totals, ranks and scores accumulate in flat arrays (one slot per key, `width` ranks per slot); the full
        // entries are made for the k best only.
        let width = lists.count
        var slotOfKey: [UInt64: Int] = [:]
        slotOfKey.reserveCapacity(lists.reduce(0) { $0 + $1.count })
        var keys: [UInt64] = []
        var totals: [Double] = []
        var ranks: [Int?] = []
        var scores: [Double?] = []
        for (listIndex, list) in lists.enumerated() {
            let (low, high) = (list.map(\.score).min() ?? 0, list.map(\.score).max() ?? 0)
            for (position, item) in list.enumerated() {
                let slot: Int
                if let known = slotOfKey[item.key] {
                    slot = known
                } else {
                    slot = keys.count
                    slotOfKey[item.key] = slot
                    keys.append(item.key)
                    totals.append(0)
                    ranks.append(contentsOf: repeatElement(nil, count: width))
                    scores.append(contentsOf: repeatElement(nil, count: width))
                }
                ranks[slot * width + listIndex] = position + 1
                scores[slot * width + listIndex] = item.score
                switch fusion {
                case .reciprocalRank(let constant):
                    totals[slot] += 1 / (constant + Double(position + 1))
                case .weighted(let denseWeight):
                    let weight = lists.count == 1 ? 1 : (listIndex == 0 ? denseWeight : 1 - denseWeight)
                    let normalised = high > low ? (item.score - low) / (high - low) : 1
                    totals[slot] += weight * normalised
                }
            }
        }
        let best = keys.indices.sorted { totals[$0] != totals[$1] ? totals[$0] > totals[$1] : keys[$0] < keys[$1] }.prefix(k)
        return best.map { slot in
            Fused(
                key: keys[slot], score: totals[slot], ranks: Array(ranks[slot * width..<(slot + 1) * width]),
                scores: Array(scores[slot * width..<(slot + 1) * width]))
        }
    }
}
