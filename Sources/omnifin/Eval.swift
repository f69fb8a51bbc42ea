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
            Ingests DIR/corpus.jsonl into a temporary knowledge bank (SQLite, the built-in embedder, the same chunking, BM25
            and fusion as the server), runs DIR/queries.jsonl and scores the rankings against the judgements
            (DIR/qrels/test.tsv unless --qrels names another file). Documents are ranked by their best passage.
            Embeddings are cached in ~/.cache/omnifin/embeddings, so a second run embeds nothing.
            --mode all adds "dense_exact": dense search by exact scan, to show what the HNSW index loses. ms/query includes
            embedding the query when it is not cached yet.
            Example: omnifin eval --beir ../shared/data/scifact --mode all
            """
    )

    @Option(help: "The BEIR folder (corpus.jsonl, queries.jsonl, qrels/).") var beir: String?
    @Flag(help: "Score the chat's answers (built-in answerer): answered rate, citation precision@1 and recall.") var answers = false
    @Option(help: "With --answers: a JSON list of {question, document, answer_contains} over the --corpus folder.") var questions: String?
    @Option(help: "With --questions: the folder of Markdown documents the questions are about.") var corpus: String = "corpora"
    @Option(help: "With --questions: a BEIR queries.jsonl of off-topic questions that must go unanswered.") var negatives: String?
    @Flag(help: "With --questions: print every question with its answer.") var verbose = false
    @Option(help: "With --answers: the relevance threshold (cosine of the best passage).") var relevance: Double = ChatConfiguration().relevanceThreshold
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
        guard (beir != nil) != (questions != nil) else { throw ValidationError("give --beir DIR, or --answers with --questions FILE") }
        if questions != nil && !answers { throw ValidationError("--questions needs --answers") }
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
        if let questions { return try await evaluateDemoAnswers(questions) }
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
            let items = dataset.queries.map { query in
                AnswerEvaluation.Question(text: query.text, relevant: Set((dataset.judgements[query.id] ?? [:]).filter { $0.value > 0 }.keys))
            }
            var chat = ChatConfiguration()
            chat.relevanceThreshold = relevance
            let report = try await AnswerEvaluation.run(bank: bank, questions: items, configuration: chat)
            printAnswers(report, label: "scifact")
            return
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

    func printAnswers(_ report: AnswerEvaluation.Report, label: String) {
        if json {
            var trimmed = report
            trimmed.bestScores = []
            trimmed.answers = []
            try? JSONOutput.print([label: trimmed])
            return
        }
        print("questions  answered  citation P@1  citation recall  contains answer  ms/question   (\(label), relevance ≥ \(relevance))")
        print(
            String(
                format: "%9d  %8.3f  %12.3f  %15.3f  %15@  %11.1f", report.questions, report.answeredRate, report.citationPrecisionAt1,
                report.citationRecall, report.containsExpected.map { String(format: "%.3f", $0) } ?? "-", report.secondsPerQuestion * 1000))
    }

    struct DemoQuestion: Decodable {
        var question: String
        var document: String
        var answer_contains: String?
    }

    /// The demo questions over the demo corpus, plus off-topic questions that must go unanswered, and how the
    /// relevance threshold trades one against the other.
    func evaluateDemoAnswers(_ path: String) async throws {
        let items: [DemoQuestion]
        do {
            items = try JSONDecoder().decode([DemoQuestion].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ValidationError("--questions \(path): \(error)")
        }
        let builtin = try Wiring.builtinEmbedder(try Wiring.settings(), threads: threads)
        let embedder: any Embedder =
            noCache ? builtin : try DiskCachedEmbedder(builtin, path: DiskCachedEmbedder.defaultPath(model: builtin.modelName, directory: cacheDirectory, settings: try Wiring.settings()))
        let store = try SQLiteStore(path: ":memory:")
        defer { Task { await store.close() } }
        var logger = Logger(label: "omnifin.eval")
        logger.logLevel = .warning
        let (bank, _) = try await KnowledgeBank.open(store: store, embedder: embedder, chunker: KnowledgeBank.defaultChunker(for: embedder), logger: logger)
        let outcomes = try await bank.upsert(try Wiring.markdownFolder(corpus), rights: .everything)
        var idOfFile: [String: String] = [:]
        for outcome in outcomes {
            if let document = try await store.document(id: outcome.documentID), let file = document.externalID { idOfFile[file] = outcome.documentID }
        }
        var chat = ChatConfiguration()
        chat.relevanceThreshold = relevance
        let positives = try items.map { item in
            guard let id = idOfFile[item.document] else { throw ValidationError("\(item.document) is not in \(corpus)") }
            return AnswerEvaluation.Question(text: item.question, relevant: [id], expected: item.answer_contains)
        }
        let report = try await AnswerEvaluation.run(bank: bank, questions: positives, configuration: chat)
        printAnswers(report, label: "demo questions")
        if verbose {
            for (index, item) in items.enumerated() {
                let hit = item.answer_contains.map { report.answers[index].contains($0) } ?? true
                print("\(hit ? "✓" : "✗") \(item.question) [\(item.document), best \(String(format: "%.2f", report.bestScores[index]))]\n    \(report.answers[index])")
            }
        }
        guard let negatives else { return }
        let offTopic = try String(contentsOfFile: negatives, encoding: .utf8).split(separator: "\n").prefix(300).compactMap { line -> String? in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["text"] as? String
        }
        let refused = try await AnswerEvaluation.run(bank: bank, questions: offTopic.map { .init(text: $0, relevant: []) }, configuration: chat)
        print(String(format: "off-topic questions: %d, answered %.3f (should be 0)", refused.questions, refused.answeredRate))
        print("threshold  demo answerable  off-topic refused")
        for step in 0...10 {
            let threshold = 0.15 + Double(step) * 0.05
            let kept = Double(report.bestScores.filter { $0 >= threshold }.count) / Double(max(1, report.bestScores.count))
            let refusedShare = Double(refused.bestScores.filter { $0 < threshold }.count) / Double(max(1, refused.bestScores.count))
            print(String(format: "%9.2f  %15.3f  %17.3f", threshold, kept, refusedShare))
        }
    }
}
