public import Foundation
public import Storage

/// Measures a knowledge bank on a BEIR dataset: nDCG@10, Recall@100 and MRR@10 per retrieval mode.
public enum RetrievalEvaluation {
    public struct Scores: Sendable, Codable, Equatable {
        public var ndcgAt10: Double
        public var recallAt100: Double
        public var mrrAt10: Double
        public var queries: Int
        public var secondsPerQuery: Double

        enum CodingKeys: String, CodingKey {
            case ndcgAt10 = "ndcg_at_10"
            case recallAt100 = "recall_at_100"
            case mrrAt10 = "mrr_at_10"
            case queries
            case secondsPerQuery = "seconds_per_query"
        }
    }

    /// What to measure: a retrieval mode, dense optionally by exact scan.
    public struct Run: Sendable, Hashable {
        public var name: String
        public var mode: RetrievalMode
        public var exact: Bool

        public init(name: String, mode: RetrievalMode, exact: Bool = false) {
            self.name = name
            self.mode = mode
            self.exact = exact
        }
    }

    /// Ingests the corpus into `bank` (documents keep their BEIR ids; unchanged ones are skipped).
    public static func ingest(
        _ dataset: BEIRDataset, into bank: KnowledgeBank, batch: Int = 256, progress: (Int, Int) -> Void = { _, _ in }
    ) async throws {
        for start in stride(from: 0, to: dataset.corpus.count, by: batch) {
            let slice = dataset.corpus[start..<min(dataset.corpus.count, start + batch)]
            _ = try await bank.upsert(slice.map { DocumentInput(id: $0.id, source: "beir", title: $0.title, body: $0.text) }, rights: .everything)
            progress(min(dataset.corpus.count, start + batch), dataset.corpus.count)
        }
    }

    /// Runs every query of `dataset` through `bank` for each run and scores the rankings.
    /// - Parameter depth: passages each retriever ranks before fusion; the ranking is cut at `min(100, depth)`
    ///   documents, so Recall@100 counts only those.
    public static func evaluate(_ dataset: BEIRDataset, bank: KnowledgeBank, runs: [Run], fusion: Fusion = .weighted(), depth: Int = 200)
        async throws -> [String: Scores]
    {
        var results: [String: Scores] = [:]
        for run in runs {
            var ndcg = 0.0
            var recall = 0.0
            var mrr = 0.0
            let started = ContinuousClock.now
            for query in dataset.queries {
                let hits = try await bank.search(
                    KnowledgeQuery(
                        query.text, k: min(100, depth), mode: run.mode, fusion: fusion, depth: depth, perDocument: true, exact: run.exact,
                        withText: false),
                    rights: .everything)
                // BEIR ignores a document that is the query itself.
                let ranking = hits.map(\.documentID).filter { $0 != query.id }
                let judgements = dataset.judgements[query.id] ?? [:]
                ndcg += RetrievalMetrics.ndcg(ranking: ranking, judgements: judgements, k: 10)
                recall += RetrievalMetrics.recall(ranking: ranking, judgements: judgements, k: 100)
                mrr += RetrievalMetrics.reciprocalRank(ranking: ranking, judgements: judgements, k: 10)
            }
            let n = Double(max(1, dataset.queries.count))
            results[run.name] = Scores(
                ndcgAt10: ndcg / n, recallAt100: recall / n, mrrAt10: mrr / n, queries: dataset.queries.count,
                secondsPerQuery: (ContinuousClock.now - started).inSeconds / n)
        }
        return results
    }
}
