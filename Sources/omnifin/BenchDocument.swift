import ArgumentParser
import Foundation
import Logging
import OmnifinBenchmarks
import Retrieval
import Storage

struct BenchDocument: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "document",
        abstract: "Measure how the time to write one document grows with its size.",
        discussion: """
            Joins SciFact abstracts into one document of each size and measures chunking alone and, unless --chunk-only, \
            the whole write into a fresh SQLite knowledge bank with the built-in embedder. Work that grows linearly shows a \
            constant time per MB.

            Example:
              omnifin bench document --sizes 10k,100k,1m,2m
            """
    )

    @Option(help: "Document sizes: bytes, or with k / m (10k, 1m).") var sizes: String = "10k,100k,1m,2m"
    @Option(help: "A BEIR corpus.jsonl whose abstracts make the text.") var corpus: String = "../shared/data/scifact/corpus.jsonl"
    @Option(help: "The text's shape: prose, one-line, no-spaces, tiny-sentences or dots.") var shape: String = "prose"
    @Flag(help: "Measure chunking only (no embedding).") var chunkOnly = false
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let parsed = try sizes.split(separator: ",").map { part -> Int in
            let text = part.trimmingCharacters(in: .whitespaces).lowercased()
            let scale = text.hasSuffix("k") ? 1_000 : text.hasSuffix("m") ? 1_000_000 : 1
            guard let number = Double(scale == 1 ? text : String(text.dropLast())), number > 0 else {
                throw ValidationError("--sizes: '\(part)' is not a size such as 10k or 2m")
            }
            return Int(number * Double(scale))
        }
        guard let textShape = DocumentSizeBenchmark.Shape(rawValue: shape) else {
            throw ValidationError("--shape must be one of \(DocumentSizeBenchmark.Shape.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let embedder = try Wiring.builtinEmbedder(try Wiring.settings())
        let chunker = KnowledgeBank.defaultChunker(for: embedder)
        var logger = Logger(label: "omnifin.bench")
        logger.logLevel = .warning
        let write: ((String) async throws -> Void)? =
            chunkOnly
            ? nil
            : { text in
                let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-bench-document-\(UUID().uuidString)")
                defer { try? FileManager.default.removeItem(at: directory) }
                let store = try SQLiteStore(path: directory.appendingPathComponent("bench.db").path)
                let (bank, _) = try await KnowledgeBank.open(
                    store: store, embedder: embedder, chunker: chunker, configuration: .init(maximumDocumentBytes: 64 << 20), logger: logger)
                _ = try await bank.upsert([DocumentInput(title: "Benchmark document", body: text)], rights: .everything)
                await store.close()
            }
        let rows = try await DocumentSizeBenchmark.run(sizes: parsed, corpus: corpus, shape: textShape, chunker: chunker, write: write)
        if json { return try JSONOutput.print(rows) }
        print("bytes       passages   chunk s   chunk s/MB   write s   write s/MB")
        for row in rows {
            let write = row.writeSeconds.map { String(format: "%-9.2f %.2f", $0, row.writeSecondsPerMB ?? 0) } ?? "-         -"
            print(String(format: "%-11d %-10d %-9.3f %-12.3f ", row.bytes, row.passages, row.chunkSeconds, row.chunkSecondsPerMB) + write)
        }
    }
}
