import ArgumentParser
import Foundation
import Chat
import Logging
import Retrieval
import Storage

struct Eval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure retrieval quality on a BEIR dataset: nDCG@10, Recall@100 and MRR@10 per mode.",
        discussion: """
            Ingests DIR/corpus.jsonl into a temporary knowledge bank (SQLite, the built-in embedder, the same chunking, BM25 \
            and fusion as the server), runs DIR/queries.jsonl and scores the rankings against the judgements \
            (DIR/qrels/test.tsv unless --qrels names another file). Documents are ranked by their best passage. \
            Embeddings are cached in ~/.cache/omnifin/embeddings, so a second run embeds nothing. \
            --mode all adds "dense_exact": dense search by exact scan, to show what the HNSW index loses. ms/query includes \
            embedding the query when it is not cached yet.

            Example:
              omnifin eval --beir ../shared/data/scifact --mode all

            With --answers the chat answers instead (the configured generator: the built-in answerer unless \
            OMNIFIN_LLM_BASE_URL and OMNIFIN_CHAT_MODEL are set, or --llm-model / OMNIFIN_LLM_MODEL names a GGUF model \
            for a llama.cpp engine started for the run), each question twice: the first pass, on fresh caches, is \
            scored and timed, the second only timed (--warm-up: after the warm-up a server runs when it starts; a \
            language model gets one pass, plus the time to its first token, tokens per second and the share of cited \
            sentences the claim check removed). Reported overall and per kind: complete answers (every key fact, \
            numbers and currencies normalised), citations of a right document, refusals of unanswerable and off-topic \
            questions, false refusals, near-duplicate and restating sentences, the right document first and in the top \
            five, and answer time p50/p95 cold and warm. --questions reads the --corpus folder into a fresh in-memory \
            knowledge bank; --beir answers the dataset's queries and scores the citations against its judgements.

            Example:
              omnifin eval --answers --questions Benchmarks/answers/dev.jsonl --verbose
            """
    )

    @Option(help: "The BEIR folder (corpus.jsonl, queries.jsonl, qrels/).") var beir: String?
    @Flag(help: "Score the chat's answers instead of the rankings (see the discussion).") var answers = false
    @Option(
        help: ArgumentHelp(
            "With --answers: a question file over the --corpus folder (JSON Lines as Benchmarks/answers/, or the demo questions' JSON list); repeat for several.",
            valueName: "file"))
    var questions: [String] = []
    @Option(help: "With --questions: the folder of Markdown documents the questions are about.") var corpus: String = "corpora"
    @Option(help: "With --answers: a BEIR queries.jsonl whose first 300 questions are off-topic and must be refused.") var negatives: String?
    @Flag(help: "With --answers: list every answer that missed, with the reason.") var verbose = false
    @Flag(help: "With --answers: embed the bank's sentences first, as a server does after start (cold then means a started server).")
    var warmUp = false
    @Option(help: "With --answers: the relevance threshold (cosine of the best passage; default OMNIFIN_CHAT_RELEVANCE or 0.35).")
    var relevance: Double?
    @Option(help: "With --answers: relevance thresholds to sweep over the same answers, e.g. 0.2,0.3,0.4.") var sweep: String?
    @Option(
        name: .customLong("llm-model"),
        help: "With --answers: answer with this GGUF model in a llama.cpp engine (OMNIFIN_LLM_MODEL), beside the built-in answerer's figures.")
    var llmModel: String?
    @Option(help: "The judgements file (default: DIR/qrels/test.tsv).") var qrels: String?
    @Option(help: "dense, bm25, hybrid or all.") var mode: String = "all"
    @Flag(help: "Print JSON: {\"dense\": {\"ndcg_at_10\", \"recall_at_100\", \"mrr_at_10\"}, …}.") var json = false
    @Option(help: "BM25 k1.") var k1: Float = BM25Index.Parameters().k1
    @Option(help: "BM25 b.") var b: Float = BM25Index.Parameters().b
    @Option(help: "Hybrid fusion: weighted (min-max normalised scores, the default) or rrf (reciprocal rank).") var fusion: String = "weighted"
    @Option(help: "The RRF constant k.") var rrfK: Double = 60
    @Option(help: "Weight of dense scores in weighted fusion (0–1).") var denseWeight: Double = 0.5
    @Option(help: "HNSW efSearch (a search uses at least --depth).") var ef: Int = 200
    @Option(help: "Passages each retriever ranks before fusion (the server ranks max(50, 2·k)); documents are cut at min(100, depth).")
    var depth: Int = 200
    @Option(help: "Passage size in word pieces (the server's default: 220; larger passages are truncated by the model).")
    var chunkTokens: Int = 220
    @Option(help: "Overlap between consecutive passages in word pieces.") var overlapTokens: Int = 40
    @Option(help: "Embedding threads (default: all cores).") var threads: Int?
    @Flag(help: "Do not read or write the embedding cache.") var noCache = false
    @Option(help: "The embedding cache folder.") var cacheDirectory: String?

    func validate() throws {
        guard (beir != nil) != !questions.isEmpty else { throw ValidationError("give --beir DIR, or --answers with --questions FILE") }
        if !questions.isEmpty && !answers { throw ValidationError("--questions needs --answers") }
        if !answers, negatives != nil || sweep != nil || relevance != nil { throw ValidationError("--negatives, --sweep and --relevance go with --answers") }
        if let relevance, !(-1...1).contains(relevance) { throw ValidationError("--relevance must be between -1 and 1") }
        _ = try thresholds()
        guard ["dense", "bm25", "hybrid", "all"].contains(mode) else { throw ValidationError("--mode must be dense, bm25, hybrid or all") }
        guard ["rrf", "weighted"].contains(fusion) else { throw ValidationError("--fusion must be rrf or weighted") }
        guard k1 >= 0, (0...1).contains(b) else { throw ValidationError("--k1 must be ≥ 0 and --b between 0 and 1") }
        guard rrfK > 0, (0...1).contains(denseWeight) else { throw ValidationError("--rrf-k must be > 0 and --dense-weight between 0 and 1") }
        guard ef >= 1 else { throw ValidationError("--ef must be at least 1") }
        guard (1...10_000).contains(depth) else { throw ValidationError("--depth must be between 1 and 10000") }
        guard chunkTokens >= 16, overlapTokens >= 0 else { throw ValidationError("--chunk-tokens must be at least 16 and --overlap-tokens at least 0") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() async throws {
        if !questions.isEmpty { return try await answerQuestionFiles() }
        let dataset: BEIRDataset
        do {
            dataset = try BEIRDataset.load(directory: beir ?? "", qrels: qrels)
        } catch let error as BEIRDataset.LoadError {
            throw ValidationError(error.description)
        }
        let builtin: BuiltinEmbedder
        do {
            builtin = try Wiring.builtinEmbedder(try Wiring.settings(), threads: threads)
        } catch let error as EmbeddingError {
            throw ValidationError(error.message)
        }
        let embedder: any Embedder =
            noCache ? builtin : try DiskCachedEmbedder(builtin, path: DiskCachedEmbedder.defaultPath(model: builtin.modelName, directory: cacheDirectory, settings: try Wiring.settings()))

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

        if answers {
            let items = dataset.queries.compactMap { query -> AnswerQuestion? in
                let relevant = (dataset.judgements[query.id] ?? [:]).filter { $0.value > 0 }.keys.sorted()
                return relevant.isEmpty ? nil : AnswerQuestion(id: query.id, kind: .lookup, question: query.text, answerable: true, documents: relevant)
            }
            return try await answer([(URL(fileURLWithPath: beir ?? "").lastPathComponent, items)], bank: bank)
        }

        var runs: [RetrievalEvaluation.Run] = []
        if mode == "dense" || mode == "all" { runs.append(.init(name: "dense", mode: .dense)) }
        if mode == "all" || mode == "dense" { runs.append(.init(name: "dense_exact", mode: .dense, exact: true)) }
        if mode == "bm25" || mode == "all" { runs.append(.init(name: "bm25", mode: .bm25)) }
        if mode == "hybrid" || mode == "all" { runs.append(.init(name: "hybrid", mode: .hybrid)) }
        let fusionChoice: Fusion = fusion == "rrf" ? .reciprocalRank(k: rrfK) : .weighted(denseWeight: denseWeight)
        let scores = try await RetrievalEvaluation.evaluate(dataset, bank: bank, runs: runs, fusion: fusionChoice, depth: depth)

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
