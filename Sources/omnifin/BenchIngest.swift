import ArgumentParser
import Foundation
import OmnifinBenchmarks

struct BenchIngest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Measure bulk ingest end to end against the embedder alone, on the same texts.",
        discussion: """
            Reads the exports (as omnifin ingest does), then 1) embeds every passage text of their documents with the built-in \
            embedder alone, in batches of 64, and 2) ingests them into a fresh SQLite knowledge bank (parsing, chunking, \
            embedding, storing, indexing) with a fresh embedder. Prints records/s and passages/s of both and the share of \
            the embedder's throughput that ingest keeps. No embedding cache is used.

            Example:
              omnifin bench ingest ../shared/data/crm_erp/northwind_psql/northwind.sql
            """
    )

    @Argument(help: "Files or folders to read.") var paths: [String]
    @Option(help: "Records per committed batch.") var batch: Int = 64
    @Option(help: "Embedding threads (default: all cores).") var threads: Int?
    @Flag(help: "Print one JSON document.") var json = false

    func run() async throws {
        let settings = try Wiring.settings()
        let report: IngestBenchmark.Report
        do {
            report = try await IngestBenchmark.run(paths: paths, batch: batch) { try Wiring.builtinEmbedder(settings, threads: threads) }
        } catch let error as BenchmarkError {
            throw ValidationError(error.description)
        }
        if json {
            try JSONOutput.print(report)
        } else {
            print(String(format: "%d records, %d passages", report.records, report.passages))
            print(String(format: "embedder alone: %.1f s, %.1f passages/s", report.embedderSeconds, report.embedderPassagesPerSecond))
            print(
                String(
                    format: "ingest end to end: %.1f s, %.1f records/s, %.1f passages/s = %.0f %% of the embedder", report.ingestSeconds,
                    report.ingestRecordsPerSecond, report.ingestPassagesPerSecond, report.shareOfEmbedder * 100))
        }
    }
}
