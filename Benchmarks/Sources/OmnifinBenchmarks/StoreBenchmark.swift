import Foundation
public import Storage

/// Knowledge writes and the start-up scan of a store (SQLite or PostgreSQL), behind `omnifin bench store`: writes
/// documents of passage-sized texts with 384-d embeddings in batches, then reads every chunk back with its
/// embedding the way start-up does.
public enum StoreBenchmark {
    public struct Report: Sendable, Codable {
        public var store: String
        public var documents: Int
        public var chunks: Int
        public var batch: Int
        public var writeSeconds: Double
        public var documentsPerSecond: Double
        public var chunksPerSecond: Double
        public var scanSeconds: Double
        public var scannedChunks: Int
    }

    /// - Throws: ``BenchmarkError`` for a store that already holds documents; store errors.
    public static func run(store: any KnowledgeStore, documents: Int, chunks: Int, batch: Int) async throws -> Report {
        guard try await store.documentCount() == 0 else {
            throw BenchmarkError("\(store.location) already holds documents; benchmark an empty database")
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
        let writeSeconds = seconds(ContinuousClock.now - writeStart)
        let readStart = ContinuousClock.now
        var after: Int64 = 0
        var read = 0
        while true {
            let page = try await store.chunks(after: after, limit: 5_000, withEmbeddings: true)
            guard let last = page.last else { break }
            after = last.id
            read += page.count
        }
        let total = documents * chunks
        return Report(
            store: store.location, documents: documents, chunks: total, batch: batch, writeSeconds: writeSeconds,
            documentsPerSecond: Double(documents) / writeSeconds, chunksPerSecond: Double(total) / writeSeconds,
            scanSeconds: seconds(ContinuousClock.now - readStart), scannedChunks: read)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
