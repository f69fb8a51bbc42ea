import ArgumentParser
import Foundation
import Logging
import Retrieval
import Storage

struct BenchStore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Measure knowledge writes and the start-up scan of a store (SQLite or PostgreSQL).",
        discussion: """
            Writes --documents documents of --chunks passages each (384-d embeddings, passage-sized texts) into a fresh
            store, in batches of --batch documents per transaction, then reads every chunk back with its embedding the way
            start-up does. --batch 1 shows what one transaction per document costs. The database must be empty.
            Example: omnifin bench store --database sqlite:/tmp/bench.db --documents 5000 --batch 256
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
        var logger = Logger(label: "omnifin.bench")
        logger.logLevel = .warning
        let store: any KnowledgeStore
        do {
            store = try await StoreFactory.open(url: database, logger: logger)
        } catch let error as StoreError {
            throw ValidationError(error.message)
        }
        guard try await store.documentCount() == 0 else {
            await store.close()
            throw ValidationError("\(store.location) already holds documents; benchmark an empty database")
        }
        var generator = SystemRandomNumberGenerator()
        let passage = String(repeating: "Invoices above the approval limit need a second signature from the controller. ", count: 12)
        let now = Date()
        func document(_ i: Int) -> KnowledgeWrite {
            let record = DocumentRecord(
                id: String(format: "bench-%08d", i), source: "bench", externalID: "row-\(i)", title: "Document \(i)", body: passage,
                metadata: ["n": "\(i)"], contentHash: "h\(i)", createdAt: now, updatedAt: now)
            let newChunks = (0..<chunks).map { c in
                NewChunk(
                    ordinal: c, text: passage, start: 0, end: passage.utf16.count, tokenCount: 200, contentHash: "c\(i)-\(c)",
                    embedding: StoredEmbedding(vector: (0..<384).map { _ in Float.random(in: -1...1, using: &generator) }, model: "bench"))
            }
            return .upsert(record, chunks: newChunks)
        }

        let writeStart = ContinuousClock.now
        for start in stride(from: 0, to: documents, by: batch) {
            _ = try await store.write((start..<min(documents, start + batch)).map(document))
        }
        let writeSeconds = (ContinuousClock.now - writeStart).inSeconds

        let readStart = ContinuousClock.now
        var after: Int64 = 0
        var read = 0
        while true {
            let page = try await store.chunks(after: after, limit: 5_000, withEmbeddings: true)
            guard let last = page.last else { break }
            after = last.id
            read += page.count
        }
        let readSeconds = (ContinuousClock.now - readStart).inSeconds
        await store.close()

        let total = documents * chunks
        if json {
            print(
                """
                {"store": "\(store.location)", "documents": \(documents), "chunks": \(total), "batch": \(batch), \
                "write_seconds": \(writeSeconds), "documents_per_second": \(Double(documents) / writeSeconds), \
                "chunks_per_second": \(Double(total) / writeSeconds), "scan_seconds": \(readSeconds), "scanned_chunks": \(read)}
                """)
        } else {
            print(String(
                format: "%@: wrote %d documents (%d passages) in batches of %d: %.2f s, %.0f documents/s, %.0f passages/s; scanned %d passages with embeddings in %.2f s",
                store.location, documents, total, batch, writeSeconds, Double(documents) / writeSeconds, Double(total) / writeSeconds, read, readSeconds))
        }
    }
}
