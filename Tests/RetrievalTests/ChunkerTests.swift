import Foundation
@testable import Retrieval
import Storage
import Testing

@Suite("Chunker")
struct ChunkerTests {
    /// Counts words: makes the expected cuts easy to reason about.
    static let words = Chunker(targetTokens: 30, maxTokens: 40, overlapTokens: 10) { $0.split(whereSeparator: \.isWhitespace).count }

    static func sentence(_ n: Int, words: Int = 9) -> String {
        "Sentence \(n) " + Array(repeating: "word", count: words - 3).joined(separator: " ") + " end."
    }

    @Test("sentences split at full stops, not after abbreviations, initials or decimals")
    func sentences() {
        let text = "Dr. Smith paid 3.5 million EUR, i.e. the full amount. J. R. Doe approved it! Was it booked? Yes.\nNext line"
        let units = Array(text.utf16)
        let found = SentenceSplitter.sentences(in: text).map { String(decoding: units[$0], as: UTF16.self) }
        #expect(found == ["Dr. Smith paid 3.5 million EUR, i.e. the full amount.", "J. R. Doe approved it!", "Was it booked?", "Yes.", "Next line"])
    }

    @Test("prose is packed into passages with overlap, offsets point into the body")
    func prose() {
        let body = (1...10).map { Self.sentence($0) }.joined(separator: " ")
        let passages = Self.words.passages(title: "T", body: body, kind: .text)
        #expect(passages.count >= 3)
        let units = Array(body.utf16)
        for passage in passages {
            #expect(String(decoding: units[passage.start..<passage.end], as: UTF16.self) == passage.text)
            #expect(passage.tokenCount <= 30 - 0 || passage.tokenCount <= 40)
            #expect(passage.text.hasPrefix("Sentence") && passage.text.hasSuffix("end."))
        }
        // Each passage after the first starts with the last sentence of the one before.
        for (previous, next) in zip(passages, passages.dropFirst()) {
            #expect(next.start < previous.end)
            #expect(previous.text.hasSuffix(String(next.text.prefix(while: { $0 != "." })) + "."))
        }
        #expect(passages.last!.end == units.count && passages.first!.start == 0)
    }

    @Test("a record stays one passage when it fits, and is cut between lines without overlap when it does not")
    func records() {
        let small = "Name: Acme\nCity: Rotterdam\nRevenue: 12000000"
        #expect(Self.words.passages(title: "Acme", body: small, kind: .record).map(\.text) == [small])
        let large = (1...30).map { "Field \($0): value number \($0)" }.joined(separator: "\n")
        let passages = Self.words.passages(title: "Acme", body: large, kind: .record)
        #expect(passages.count > 1)
        for (previous, next) in zip(passages, passages.dropFirst()) { #expect(next.start > previous.end) }
        #expect(passages.allSatisfy { $0.text.split(separator: "\n").allSatisfy { $0.hasPrefix("Field") } })
    }

    @Test("a sentence longer than the window is cut between words; empty bodies give no passage")
    func longSentence() {
        let body = Array(repeating: "ledger", count: 200).joined(separator: " ")
        let passages = Self.words.passages(title: "", body: body, kind: .text)
        #expect(passages.count >= 5 && passages.allSatisfy { $0.tokenCount <= 40 })
        #expect(Self.words.passages(title: "T", body: "  \n ", kind: .text).isEmpty)
    }

    @Test("with the real tokenizer no passage plus title exceeds the model's window")
    func modelWindow() throws {
        let tokenizer = try TestModel.load().tokenizer
        let chunker = Chunker(tokenizer: tokenizer)
        let title = "Consolidated financial statements of the group for the year ended 31 December 2025"
        let body = (1...40).map { "Note \($0): the provision for doubtful receivables (IFRS 9, stage \($0 % 3 + 1)) was re-measured at year end." }
            .joined(separator: " ")
        let passages = chunker.passages(title: title, body: body, kind: .text)
        #expect(passages.count >= 3)
        for passage in passages {
            let pieces = tokenizer.pieceCount(Chunker.indexedText(title: title, passage: passage.text))
            #expect(pieces <= tokenizer.maxLength - 2)
            #expect(passage.tokenCount >= 100)
        }
    }

    @Test("text with no white space, or no sentence end, still becomes bounded passages that cover it all")
    func unbrokenText() throws {
        let tokenizer = try TestModel.load().tokenizer
        let chunker = Chunker(tokenizer: tokenizer)
        let blob = String(repeating: "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo", count: 1_500)  // 52 KB of base64, no space
        let line = Array(repeating: "the controller approves the supplier invoice before the payment run", count: 800).joined(separator: " ")  // no full stop
        for body in [blob, line] {
            let passages = chunker.passages(title: "", body: body, kind: .text)
            #expect(passages.count > 20)
            #expect(passages.allSatisfy { $0.text.utf16.count <= 4_000 }, "\(passages.map { $0.text.utf16.count }.max() ?? 0)")
            #expect(passages.first?.start == 0 && passages.last?.end == body.utf16.count)
            // Nothing is lost between passages but the spaces they are cut at.
            let units = Array(body.utf16)
            for (before, after) in zip(passages, passages.dropFirst()) where after.start > before.end {
                #expect(units[before.end..<after.start].allSatisfy { $0 == 0x20 })
            }
        }
        // The tokenizer agrees with itself however a word is cut: the greedy search bounded by the longest piece.
        #expect(tokenizer.pieceCount("unquestionably antidisestablishmentarianism") == tokenizer.tokens("unquestionably antidisestablishmentarianism").count)
        #expect(WordPieceTokenizer.lowercase("ÀÉÎ ÕÜ ΣΑΣ İ") == "àéî õü σασ i̇")
    }
}

@Suite("Retrieval metrics")
struct RetrievalMetricsTests {
    @Test("nDCG, recall and MRR against hand-computed values")
    func handComputed() {
        let judgements = ["a": 1, "b": 2, "z": 0]
        let ranking = ["x", "b", "y", "a"]
        // DCG = 2/log2(3) + 1/log2(5) = 1.26186 + 0.43068; IDCG = 2/log2(2) + 1/log2(3) = 2 + 0.63093.
        let expected = (2 / log2(3.0) + 1 / log2(5.0)) / (2 + 1 / log2(3.0))
        #expect(abs(RetrievalMetrics.ndcg(ranking: ranking, judgements: judgements, k: 10) - expected) < 1e-12)
        #expect(abs(RetrievalMetrics.ndcg(ranking: ranking, judgements: judgements, k: 2) - (2 / log2(3.0)) / (2 + 1 / log2(3.0))) < 1e-12)
        #expect(RetrievalMetrics.recall(ranking: ranking, judgements: judgements, k: 2) == 0.5)
        #expect(RetrievalMetrics.recall(ranking: ranking, judgements: judgements, k: 100) == 1)
        #expect(RetrievalMetrics.reciprocalRank(ranking: ranking, judgements: judgements, k: 10) == 0.5)
        #expect(RetrievalMetrics.reciprocalRank(ranking: ["z", "x"], judgements: judgements, k: 10) == 0)
        #expect(RetrievalMetrics.ndcg(ranking: ["b", "a"], judgements: judgements, k: 10) == 1)
    }
}

@Suite("BM25")
struct BM25IndexTests {
    @Test("scores match Lucene's formula computed by hand")
    func formula() {
        let index = BM25Index(parameters: .init(k1: 1.2, b: 0.75))
        index.add(id: 1, text: "invoice invoice payment")
        index.add(id: 2, text: "payment run")
        index.add(id: 3, text: "travel expense report receipt")
        let hits = index.search("invoices", k: 10)
        // N = 3, df = 1, avgdl = (3 + 2 + 4) / 3 = 3, tf = 2, len = 3.
        let idf = log(1 + (3 - 1 + 0.5) / (1 + 0.5))
        let expected = idf * 2 / (2 + 1.2 * (1 - 0.75 + 0.75 * 3 / 3))
        #expect(hits.map(\.id) == [1])
        #expect(abs(Double(hits[0].score) - expected) < 1e-5)
        #expect(index.search("the of and", k: 10).isEmpty)
    }

    @Test("removal, replacement and compaction keep search right")
    func updates() {
        let index = BM25Index()
        for i in 0..<3_000 { index.add(id: UInt64(i), text: i % 2 == 0 ? "even ledger \(i)" : "odd journal \(i)") }
        index.remove(ids: (0..<2_000).map(UInt64.init))
        #expect(index.count == 1_000)
        #expect(index.search("ledger", k: 5_000).count == 500)
        index.add(id: 2_999, text: "ledger now")
        #expect(index.search("ledger", k: 5_000).count == 501)
        #expect(index.search("journal", k: 5_000).count == 499)
    }

    @Test("rankings equal Lucene's formula over a random corpus, with removals and groups")
    func randomCorpus() {
        var generator = SeededGenerator(seed: 20261205)
        let index = BM25Index()
        var passages: [UInt64: (terms: [String], group: Int32)] = [:]
        // Zipf-like vocabulary: low term numbers are common, high ones rare.
        func word() -> String { "t\(Int(pow(Double.random(in: 0..<1, using: &generator), 3) * 400))" }
        for id in 0..<4_000 {
            let terms = (0..<Int.random(in: 1...40, using: &generator)).map { _ in word() }
            let group = Int32.random(in: 0...2, using: &generator)
            passages[UInt64(id)] = (terms, group)
            index.add(id: UInt64(id), text: terms.joined(separator: " "), group: group)
        }
        for id in stride(from: 0, to: 4_000, by: 7) {
            index.remove(id: UInt64(id))
            passages[UInt64(id)] = nil
        }
        func reference(_ query: [String], k: Int, groups: Set<Int32>?) -> [(id: UInt64, score: Double)] {
            let visible = passages.filter { groups?.contains($0.value.group) ?? true }
            let average = Double(visible.values.map(\.terms.count).reduce(0, +)) / Double(visible.count)
            var scores: [UInt64: Double] = [:]
            for term in query {
                let df = Double(visible.values.filter { $0.terms.contains(term) }.count)
                guard df > 0 else { continue }
                let idf = log(1 + (Double(visible.count) - df + 0.5) / (df + 0.5))
                for (id, passage) in visible {
                    let tf = Double(passage.terms.filter { $0 == term }.count)
                    guard tf > 0 else { continue }
                    scores[id, default: 0] += idf * tf / (tf + 1.2 * (1 - 0.75 + 0.75 * Double(passage.terms.count) / average))
                }
            }
            return scores.map { (id: $0.key, score: $0.value) }.sorted { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }.prefix(k).map { $0 }
        }
        for round in 0..<40 {
            let query = (0..<Int.random(in: 1...8, using: &generator)).map { _ in word() }
            let k = [1, 10, 100, 5_000][round % 4]
            let groups: Set<Int32>? = round % 3 == 0 ? [0, 2] : nil
            let hits = index.search(query.joined(separator: " "), k: k, allowedGroups: groups)
            let expected = reference(query, k: k, groups: groups)
            #expect(hits.count == expected.count, "query \(query) k \(k)")
            for (hit, want) in zip(hits, expected) {
                // Float sums in another order: ranks may swap only between scores equal to float precision.
                #expect(abs(Double(hit.score) - want.score) < 1e-4, "query \(query) k \(k)")
                #expect(passages[hit.id] != nil)
            }
        }
    }

    @Test("statistics count only the groups a caller may see")
    func groups() {
        let open = BM25Index()
        let mixed = BM25Index()
        open.add(id: 1, text: "audit report", group: 0)
        open.add(id: 2, text: "annual report", group: 0)
        mixed.add(id: 1, text: "audit report", group: 0)
        mixed.add(id: 2, text: "annual report", group: 0)
        for i in 10..<50 { mixed.add(id: UInt64(i), text: "secret audit audit", group: 1) }
        #expect(mixed.search("audit", k: 10, allowedGroups: [0]) == open.search("audit", k: 10))
        #expect(mixed.search("audit", k: 100).count == 41)
        mixed.setGroup(0, for: 10)
        #expect(mixed.search("secret", k: 10, allowedGroups: [0]).map(\.id) == [10])
    }
}

/// SplitMix64, so random test corpora are the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
