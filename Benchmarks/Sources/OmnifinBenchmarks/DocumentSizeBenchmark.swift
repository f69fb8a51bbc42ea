import Foundation
public import Retrieval
import Storage

/// How the time to write one document grows with its size, behind `omnifin bench document`: real prose (SciFact
/// abstracts, joined) cut to each size, then 1) chunked alone (sentence splitting, word-piece counting, packing)
/// and 2) written into a knowledge bank (chunking, embedding, storing, indexing). Linear work shows as a constant
/// time per megabyte.
public struct DocumentSizeBenchmark: Sendable {
    public struct Row: Sendable, Codable {
        public var bytes: Int
        public var passages: Int
        public var chunkSeconds: Double
        public var chunkSecondsPerMB: Double
        /// `nil` when only chunking was measured.
        public var writeSeconds: Double?
        public var writeSecondsPerMB: Double?
    }

    /// The text: abstracts from a BEIR `corpus.jsonl`, one paragraph each, repeated when the corpus is shorter.
    public static func prose(from corpus: String, bytes: Int) throws -> String {
        let paragraphs = try TextFile.read(corpus, limit: bytes / 500 + 10).filter { !$0.isEmpty }
        guard !paragraphs.isEmpty else { return "" }
        var text = ""
        var index = 0
        while text.utf8.count < bytes {
            text += paragraphs[index % paragraphs.count] + "\n\n"
            index += 1
        }
        return String(decoding: Array(text.utf8.prefix(bytes)), as: UTF8.self)
    }

    /// Texts shaped to find super-linear work: prose as it is, and the shapes an attacker (or a careless export) sends.
    public enum Shape: String, Sendable, CaseIterable {
        /// Abstracts as they are: sentences and paragraphs.
        case prose
        /// The same words on one line without sentence ends.
        case oneLine = "one-line"
        /// No white space at all: one enormous word.
        case noSpaces = "no-spaces"
        /// Sentences of two words ("Ab. Cd. …").
        case tinySentences = "tiny-sentences"
        /// Words with dots inside and a space after each ("a.b.c.d. e.f.g.h. …"): abbreviation checks everywhere.
        case dots

        func apply(_ prose: String, bytes: Int) -> String {
            let text: String
            switch self {
            case .prose: text = prose
            case .oneLine: text = String(prose.map { ".!?\n".contains($0) ? " " : $0 })
            case .noSpaces: text = String(prose.filter { !$0.isWhitespace })
            case .tinySentences: text = String(repeating: "Ab cd. ", count: bytes / 7 + 1)
            case .dots: text = String(repeating: "a.b.c.d. ", count: bytes / 9 + 1)
            }
            return String(decoding: Array(text.utf8.prefix(bytes)), as: UTF8.self)
        }
    }

    /// Measures each size; `write` is called with a text and must write it as one document (into a fresh bank).
    public static func run(
        sizes: [Int], corpus: String, shape: Shape = .prose, chunker: Chunker, write: ((String) async throws -> Void)?
    ) async throws -> [Row] {
        var rows: [Row] = []
        for size in sizes {
            let text = shape.apply(try prose(from: corpus, bytes: size * 2), bytes: size)
            let started = ContinuousClock.now
            let passages = chunker.passages(title: "Benchmark document", body: text, kind: .text)
            let chunkSeconds = Self.seconds(ContinuousClock.now - started)
            let megabytes = Double(text.utf8.count) / 1_048_576
            var row = Row(
                bytes: text.utf8.count, passages: passages.count, chunkSeconds: chunkSeconds, chunkSecondsPerMB: chunkSeconds / megabytes)
            if let write {
                let writeStart = ContinuousClock.now
                try await write(text)
                row.writeSeconds = Self.seconds(ContinuousClock.now - writeStart)
                row.writeSecondsPerMB = row.writeSeconds! / megabytes
            }
            rows.append(row)
        }
        return rows
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
