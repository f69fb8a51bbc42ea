import Foundation
import Ingest
import Logging
public import Retrieval
import Storage

/// Bulk ingest end to end against the embedder alone, on the same texts, behind `omnifin bench ingest`: the exports
/// are read as `omnifin ingest` reads them; 1) every passage text of their documents is embedded with the built-in
/// embedder alone, in batches of 64, 2) the exports are ingested into a fresh SQLite knowledge bank (parsing,
/// chunking, embedding, storing, indexing) with a fresh embedder.
public enum IngestBenchmark {
    public struct Report: Sendable, Codable {
        public var records: Int
        public var passages: Int
        public var embedderSeconds: Double
        public var embedderPassagesPerSecond: Double
        public var ingestSeconds: Double
        public var ingestRecordsPerSecond: Double
        public var ingestPassagesPerSecond: Double
        public var shareOfEmbedder: Double
    }

    /// - Parameter makeEmbedder: a fresh built-in embedder (one for each half, so neither warms the other's caches).
    /// - Throws: ``BenchmarkError`` when the paths hold no records; embedding and store errors.
    public static func run(paths: [String], batch: Int, makeEmbedder: () throws -> BuiltinEmbedder) async throws -> Report {
        var documents: [DocumentInput] = []
        for (path, format) in IngestPipeline.inputs(paths) {
            let (read, _) = IngestPipeline.read(path, format: format, type: nil)
            documents += read.records.map { $0.document(source: "bench") }
        }
        guard !documents.isEmpty else { throw BenchmarkError("no records in \(paths.joined(separator: ", "))") }
        let reference = try makeEmbedder()
        let chunker = KnowledgeBank.defaultChunker(for: reference)
        let texts = documents.flatMap { document in
            chunker.passages(title: document.title, body: document.body, kind: document.kind).map { Chunker.indexedText(title: document.title, passage: $0.text) }
        }
        let embedStart = ContinuousClock.now
        for start in stride(from: 0, to: texts.count, by: 64) { _ = try await reference.embed(Array(texts[start..<min(texts.count, start + 64)])) }
        let embedSeconds = seconds(ContinuousClock.now - embedStart)

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-bench-ingest-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: directory.appendingPathComponent("bench.db").path)
        var logger = Logger(label: "omnifin.bench")
        logger.logLevel = .warning
        let embedder = try makeEmbedder()
        let (bank, _) = try await KnowledgeBank.open(store: store, embedder: embedder, chunker: KnowledgeBank.defaultChunker(for: embedder), logger: logger)
        var options = IngestPipeline.Options(source: "bench")
        options.batchSize = batch
        let ingestStart = ContinuousClock.now
        let summary = try await IngestPipeline(bank: bank, jobs: store).run(paths: paths, options: options)
        let ingestSeconds = seconds(ContinuousClock.now - ingestStart)
        await store.close()
        return Report(
            records: summary.read, passages: texts.count, embedderSeconds: embedSeconds, embedderPassagesPerSecond: Double(texts.count) / embedSeconds,
            ingestSeconds: ingestSeconds, ingestRecordsPerSecond: Double(summary.read) / ingestSeconds,
            ingestPassagesPerSecond: Double(texts.count) / ingestSeconds, shareOfEmbedder: embedSeconds / ingestSeconds)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
