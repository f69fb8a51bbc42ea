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
        var fused: [UInt64: Fused] = [:]
        for (listIndex, list) in lists.enumerated() {
            let (low, high) = (list.map(\.score).min() ?? 0, list.map(\.score).max() ?? 0)
            for (position, item) in list.enumerated() {
                var entry = fused[item.key] ?? Fused(key: item.key, score: 0, ranks: Array(repeating: nil, count: lists.count),
                                                       scores: Array(repeating: nil, count: lists.count))
                entry.ranks[listIndex] = position + 1
                entry.scores[listIndex] = item.score
                switch fusion {
                case .reciprocalRank(let constant):
                    entry.score += 1 / (constant + Double(position + 1))
                case .weighted(let denseWeight):
                    let weight = lists.count == 1 ? 1 : (listIndex == 0 ? denseWeight : 1 - denseWeight)
                    let normalised = high > low ? (item.score - low) / (high - low) : 1
                    entry.score += weight * normalised
                }
                fused[item.key] = entry
            }
        }
        return Array(fused.values.sorted { $0.score != $1.score ? $0.score > $1.score : $0.key < $1.key }.prefix(k))
    }
}
