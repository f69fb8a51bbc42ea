import Foundation

/// Retrieval quality measures as trec_eval and BEIR compute them (graded gains, `log2(rank + 1)` discount).
public enum RetrievalMetrics {
    /// nDCG@k of a ranking against graded judgements (document id → gain; gains ≤ 0 count as not relevant).
    public static func ndcg(ranking: [String], judgements: [String: Int], k: Int) -> Double {
        var dcg = 0.0
        for (i, id) in ranking.prefix(k).enumerated() {
            if let gain = judgements[id], gain > 0 { dcg += Double(gain) / log2(Double(i + 2)) }
        }
        let ideal = judgements.values.filter { $0 > 0 }.sorted(by: >).prefix(k)
        var idcg = 0.0
        for (i, gain) in ideal.enumerated() { idcg += Double(gain) / log2(Double(i + 2)) }
        return idcg > 0 ? dcg / idcg : 0
    }

    /// The share of relevant documents found in the first `k`.
    public static func recall(ranking: [String], judgements: [String: Int], k: Int) -> Double {
        let relevant = Set(judgements.filter { $0.value > 0 }.keys)
        guard !relevant.isEmpty else { return 0 }
        return Double(Set(ranking.prefix(k)).intersection(relevant).count) / Double(relevant.count)
    }

    /// The reciprocal rank of the first relevant document within the first `k`, else 0.
    public static func reciprocalRank(ranking: [String], judgements: [String: Int], k: Int) -> Double {
        for (i, id) in ranking.prefix(k).enumerated() where (judgements[id] ?? 0) > 0 { return 1 / Double(i + 1) }
        return 0
    }
}
