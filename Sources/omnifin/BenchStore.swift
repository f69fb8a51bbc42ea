import ArgumentParser
import Foundation
import Logging
import OmnifinBenchmarks
import Storage

struct BenchStore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Measure knowledge writes and the start-up scan of a store (SQLite or PostgreSQL).",
        discussion: """
            Writes --documents documents of --chunks passages each (384-d embeddings, passage-sized texts) into a fresh \
            store, in batches of --batch documents per transaction, then reads every chunk back with its embedding the way \
            start-up does. --batch 1 shows what one transaction per document costs. The database must be empty.

            Example:
              omnifin bench store --database sqlite:/tmp/bench.db --documents 5000 \\
                --batch 256
            """
    )

    @Option(help: "sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB (an empty database).") var database: String
    @Option(help: "Documents to write.") var documents: Int = 5_000
    @Option(help: "Passages per document.") var chunks: Int = 2
    @Option(help: "Documents per write transaction.") var batch: Int = 256
    @Flag(help: "Print one JSON document.") var json = false

    func validate() throws {
        guard documents >= 1, chunks >= 1, batch >= 1 else { throw ValidationError("--documents, --chunks and --batch must be at least 1") }
    }

    func run() async throws {
        let store = try await Wiring.store(database, logger: Wiring.logger("omnifin.bench"))
        let report: StoreBenchmark.Report
        do {
            report = try await StoreBenchmark.run(store: store, documents: documents, chunks: chunks, batch: batch)
        } catch let error as BenchmarkError {
            await store.close()
            throw ValidationError(error.description)
        }
        await store.close()
        if json { return try JSONOutput.print(report) }
        print(
            String(
                format: "%@: wrote %d documents (%d passages) in batches of %d: %.2f s, %.0f documents/s, %.0f passages/s; scanned %d passages with embeddings in %.2f s",
                report.store, report.documents, report.chunks, report.batch, report.writeSeconds, report.documentsPerSecond, report.chunksPerSecond,
                report.scannedChunks, report.scanSeconds))
    }
}
