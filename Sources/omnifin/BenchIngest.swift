import ArgumentParser
import Foundation
import Ingest
import Logging
import Retrieval
import Storage

struct BenchIngest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Measure bulk ingest end to end against the embedder alone, on the same texts.",
        discussion: """
            Reads the exports (as omnifin ingest does), then 1) embeds every passage text of their documents with the built-in
            embedder alone, in batches of 64, and 2) ingests them into a fresh SQLite knowledge bank (parsing, chunking,
            embedding, storing, indexing) with a fresh embedder. Prints records/s and passages/s of both and the share of
            the embedder's throughput that ingest keeps. No embedding cache is used.
            Example: omnifin bench ingest ../shared/data/crm_erp/northwind_psql/northwind.sql
            """
    )

    @Argument(help: "Files or folders to read.") var paths: [String]
    @Option(help: "Records per committed batch.") var batch: Int = 64
    @Option(help: "Embedding threads (default: all cores).") var threads: Int?
    @Flag(help: "Print one JSON document.") var json = false

    struct Report: Encodable {
        var records: Int
        var passages: Int
        var embedderSeconds: Double
        var embedderPassagesPerSecond: Double
        var ingestSeconds: Double
        var ingestRecordsPerSecond: Double
        var ingestPassagesPerSecond: Double
        var shareOfEmbedder: Double
    }

    func run() async throws {
        var documents: [DocumentInput] = []
        for (path, format) in IngestPipeline.inputs(paths) {
            let (read, _) = IngestPipeline.read(path, format: format, type: nil)
            documents += read.records.map { $0.document(source: "bench") }
        }
        guard !documents.isEmpty else { throw ValidationError("no records in \(paths.joined(separator: ", "))") }
        let reference = try BuiltinEmbedder(threads: threads)
        let chunker = KnowledgeBank.defaultChunker(for: reference)
        let texts = documents.flatMap { document in
            chunker.passages(title: document.title, body: document.body, kind: document.kind).map { Chunker.indexedText(title: document.title, passage: $0.text) }
        }
        let embedStart = ContinuousClock.now
        for start in stride(from: 0, to: texts.count, by: 64) { _ = try await reference.embed(Array(texts[start..<min(texts.count, start + 64)])) }
        let embedSeconds = (ContinuousClock.now - embedStart).inSeconds

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-bench-ingest-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: directory.appendingPathComponent("bench.db").path)
        var logger = Logger(label: "omnifin.bench")
        logger.logLevel = .warning
        let embedder = try BuiltinEmbedder(threads: threads)
        let (bank, _) = try await KnowledgeBank.open(store: store, embedder: embedder, chunker: KnowledgeBank.defaultChunker(for: embedder), logger: logger)
        var options = IngestPipeline.Options(source: "bench")
        options.batchSize = batch
        let ingestStart = ContinuousClock.now
        let summary = try await IngestPipeline(bank: bank, jobs: store).run(paths: paths, options: options)
        let ingestSeconds = (ContinuousClock.now - ingestStart).inSeconds
        await store.close()

        let report = Report(
            records: summary.read, passages: texts.count, embedderSeconds: embedSeconds, embedderPassagesPerSecond: Double(texts.count) / embedSeconds,
            ingestSeconds: ingestSeconds, ingestRecordsPerSecond: Double(summary.read) / ingestSeconds,
            ingestPassagesPerSecond: Double(texts.count) / ingestSeconds, shareOfEmbedder: embedSeconds / ingestSeconds)
        if json {
            try JSONOutput.print(report)
        } else {
            print(String(format: "%d records, %d passages", report.records, report.passages))
            print(String(format: "embedder alone: %.1f s, %.1f passages/s", embedSeconds, report.embedderPassagesPerSecond))
            print(
                String(
                    format: "ingest end to end: %.1f s, %.1f records/s, %.1f passages/s = %.0f %% of the embedder", ingestSeconds,
                    report.ingestRecordsPerSecond, report.ingestPassagesPerSecond, report.shareOfEmbedder * 100))
        }
    }
}
