import Dispatch
import Foundation
public import Retrieval

/// The embedding throughput benchmark behind `omnifin bench embed`.
public enum EmbedBenchmark {
    public struct Report: Sendable {
        public var texts: Int
        public var tokens: Int
        public var seconds: Double
        public var threads: Int
        public var textsPerSecond: Double { Double(texts) / seconds }
        public var tokensPerSecond: Double { Double(tokens) / seconds }

        public var json: String {
            let document: [String: Any] = [
                "lib": "omnifin", "texts": texts, "tokens": tokens, "seconds": seconds, "threads": threads,
                "texts_per_second": textsPerSecond, "tokens_per_second": tokensPerSecond,
            ]
            return String(decoding: try! JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]), as: UTF8.self)
        }

        public var table: String {
            String(
                format: "omnifin built-in %@, %d thread(s): %d texts, %d tokens in %.2f s: %.1f texts/s, %.0f tokens/s", BuiltinEmbedder.name,
                threads, texts, tokens, seconds, textsPerSecond, tokensPerSecond)
        }
    }

    /// Embeds `texts` once to warm up on a small slice, then times the whole list.
    public static func run(texts: [String], embedder: BuiltinEmbedder) -> Report {
        _ = embedder.embedFlat(Array(texts.prefix(32)))
        let start = DispatchTime.now()
        let (_, tokens) = embedder.embedFlat(texts)
        return Report(texts: texts.count, tokens: tokens, seconds: seconds(since: start), threads: embedder.threads)
    }
}
