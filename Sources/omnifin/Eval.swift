import ArgumentParser
import Foundation
import Logging
import Retrieval
import Storage

struct Eval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure retrieval quality on a BEIR dataset: nDCG@10, Recall@100 and MRR@10 per mode.",
        discussion: """
            Ingests DIR/corpus.jsonl into a temporary knowledge bank (SQLite, the built-in embedder, the same chunking, BM25
            and fusion as the server), runs DIR/queries.jsonl and scores the rankings against the judgements
            (DIR/qrels/test.tsv unless --qrels names another file). Documents are ranked by their best passage.
            Embeddings are cached in ~/.cache/omnifin/embeddings, so a second run embeds nothing.
            --mode all adds "dense_exact": dense search by exact scan, to show what the HNSW index loses. ms/query includes
            embedding the query when it is not cached yet.
            Example: omnifin eval --beir ../shared/data/scifact --mode all
            """
    )

    @Option(help: "The BEIR folder (corpus.jsonl, queries.jsonl, qrels/).") var beir: String
    @Option(help: "The judgements file (default: DIR/qrels/test.tsv).") var qrels: String?
    @Option(help: "dense, bm25, hybrid or all.") var mode: String = "all"
    @Flag(help: "Print JSON: {\"dense\": {\"ndcg_at_10\", \"recall_at_100\", \"mrr_at_10\"}, …}.") var json = false
    @Option(help: "BM25 k1.") var k1: Float = BM25Index.Parameters().k1
    @Option(help: "BM25 b.") var b: Float = BM25Index.Parameters().b
    @Option(help: "Hybrid fusion: weighted (min-max normalised scores, the default) or rrf (reciprocal rank).") var fusion: String = "weighted"
    @Option(help: "The RRF constant k.") var rrfK: Double = 60
    @Option(help: "Weight of dense scores in weighted fusion (0–1).") var denseWeight: Double = 0.5
    @Option(help: "HNSW efSearch (at least 200: each query ranks 200 passages per retriever).") var ef: Int = 200
    @Option(help: "Passage size in word pieces (the server's default: 220; larger passages are truncated by the model).")
    var chunkTokens: Int = 220
    @Option(help: "Overlap between consecutive passages in word pieces.") var overlapTokens: Int = 40
    @Option(help: "Embedding threads (default: all cores).") var threads: Int?
    @Flag(help: "Do not read or write the embedding cache.") var noCache = false
    @Option(help: "The embedding cache folder.") var cacheDirectory: String?

    func validate() throws {
        guard ["dense", "bm25", "hybrid", "all"].contains(mode) else { throw ValidationError("--mode must be dense, bm25, hybrid or all") }
        guard ["rrf", "weighted"].contains(fusion) else { throw ValidationError("--fusion must be rrf or weighted") }
        guard k1 >= 0, (0...1).contains(b) else { throw ValidationError("--k1 must be ≥ 0 and --b between 0 and 1") }
        guard rrfK > 0, (0...1).contains(denseWeight) else { throw ValidationError("--rrf-k must be > 0 and --dense-weight between 0 and 1") }
        guard ef >= 1 else { throw ValidationError("--ef must be at least 1") }
        guard chunkTokens >= 16, overlapTokens >= 0 else { throw ValidationError("--chunk-tokens must be at least 16 and --overlap-tokens at least 0") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() async throws {
        let dataset: BEIRDataset
        do {
            dataset = try BEIRDataset.load(directory: beir, qrels: qrels)
        } catch let error as BEIRDataset.LoadError {
            throw ValidationError(error.description)
        }
        let builtin: BuiltinEmbedder
        do {
            builtin = try BuiltinEmbedder(threads: threads)
        } catch let error as EmbeddingError {
            throw ValidationError(error.message)
        }
        let embedder: any Embedder =
            noCache ? builtin : try DiskCachedEmbedder(builtin, path: DiskCachedEmbedder.defaultPath(model: builtin.modelName, directory: cacheDirectory))

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-eval-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: directory.appendingPathComponent("eval.db").path)
        defer { Task { await store.close() } }
        var logger = Logger(label: "omnifin.eval")
        logger.logLevel = .warning
        let (bank, _) = try await KnowledgeBank.open(
            store: store, embedder: embedder,
            chunker: Chunker(
                targetTokens: chunkTokens, maxTokens: max(chunkTokens, builtin.tokenizer.maxLength - 2), overlapTokens: overlapTokens,
                countTokens: { builtin.tokenizer.pieceCount($0) }),
            configuration: .init(
                hnsw: .init(efSearch: ef), bm25: .init(k1: k1, b: b), keepExactIndex: mode == "all" || mode == "dense"),
            logger: logger)

        let started = ContinuousClock.now
        let stderr = FileHandle.standardError
        try await RetrievalEvaluation.ingest(dataset, into: bank) { done, total in
            stderr.write(Data("\r  ingested \(done)/\(total) documents".utf8))
        }
        let seconds = Int((ContinuousClock.now - started).inSeconds.rounded())
        stderr.write(Data(
            "\n  \(dataset.corpus.count) documents → \(bank.passageCount) passages in \(seconds) s; \(dataset.queries.count) queries\n".utf8))
        if let cached = embedder as? DiskCachedEmbedder {
            stderr.write(Data("  embedding cache \(cached.path): \(cached.hits) hits, \(cached.misses) embedded\n".utf8))
        }

        var runs: [RetrievalEvaluation.Run] = []
        if mode == "dense" || mode == "all" { runs.append(.init(name: "dense", mode: .dense)) }
        if mode == "all" || mode == "dense" { runs.append(.init(name: "dense_exact", mode: .dense, exact: true)) }
        if mode == "bm25" || mode == "all" { runs.append(.init(name: "bm25", mode: .bm25)) }
        if mode == "hybrid" || mode == "all" { runs.append(.init(name: "hybrid", mode: .hybrid)) }
        let fusionChoice: Fusion = fusion == "rrf" ? .reciprocalRank(k: rrfK) : .weighted(denseWeight: denseWeight)
        let scores = try await RetrievalEvaluation.evaluate(dataset, bank: bank, runs: runs, fusion: fusionChoice)

        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(scores), as: UTF8.self))
        } else {
            print("mode          nDCG@10  Recall@100  MRR@10  ms/query")
            for run in runs {
                guard let s = scores[run.name] else { continue }
                let name = run.name.padding(toLength: 12, withPad: " ", startingAt: 0)
                print(name + String(format: "  %7.4f  %10.4f  %6.4f  %8.2f", s.ndcgAt10, s.recallAt100, s.mrrAt10, s.secondsPerQuery * 1000))
            }
        }
    }
}
