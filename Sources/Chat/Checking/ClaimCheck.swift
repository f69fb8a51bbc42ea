import Foundation
public import Retrieval

/// Checks a generated answer against the passages it cites, sentence by sentence, before it is stored or called
/// grounded. A sentence with citations stays when
/// 1. every number in it (amounts, percentages, dates, durations, after the answer benchmark's normalisation:
///    `25k` = `25,000` = `twenty-five thousand`) appears in a cited passage or in the question, and
/// 2. its best-matching sentence in a cited passage, by the embedder's cosine similarity, reaches ``threshold``.
/// When the passages it cites fail but another passage of the prompt passes both tests, its markers are changed to
/// that passage (a model that cites the wrong number of a right passage). Otherwise the sentence is removed.
/// A sentence without citations stays unless it holds a number found in no passage and not in the question; it
/// never makes an answer grounded.
public struct ClaimCheck: Sendable {
    /// What the check did to one answer.
    public struct Result: Sendable, Equatable {
        /// The answer with failing sentences removed.
        public var text: String
        /// The answer's sentences, cited or not.
        public var sentences: Int
        /// Sentences that carried a citation.
        public var checked: Int
        /// The sentences removed (cited or not).
        public var removed: [String]
        /// Sentences kept with their markers moved to the passage that supports them.
        public var recited: Int
        /// Sentences kept with a citation: the answer is grounded when there is one.
        public var supported: Int
    }

    let embedder: any Embedder
    /// The cosine similarity a cited passage's best sentence must reach. Calibrated on paraphrases against
    /// wrong-passage claims (`Tests/ChatTests/Fixtures/claim-pairs.json`, Benchmarks/README.md "Claim check").
    public var threshold: Double

    public static let defaultThreshold = 0.5

    public init(embedder: any Embedder, threshold: Double = ClaimCheck.defaultThreshold) {
        self.embedder = embedder
        self.threshold = threshold
    }

    /// One sentence of the answer: where it is, its words without markers, and the passages it cites.
    package struct Sentence {
        package var range: Range<Int>
        package var body: String
        package var cited: [Int]
    }

    /// Checks `text` (markers already `[n]`, see ``CitationFormats``) against `passages`.
    public func check(_ text: String, question: String, passages: [NumberedPassage]) async throws -> Result {
        let units = Array(text.utf16)
        let sentences = Self.sentences(text)
        guard !sentences.isEmpty else { return Result(text: text, sentences: 0, checked: 0, removed: [], recited: 0, supported: 0) }
        let byNumber = Dictionary(passages.map { ($0.number, $0) }, uniquingKeysWith: { first, _ in first })
        let questionNumbers = Self.numbers(question)
        let passageNumbers = byNumber.mapValues { Self.numbers($0.hit.title + "\n" + $0.hit.passage) }
        let allNumbers = passageNumbers.values.reduce(into: Set<String>()) { $0.formUnion($1) }

        // The vectors: every cited sentence, and every sentence of every passage.
        let passageSentences = byNumber.mapValues { Self.passageSentences($0.hit.passage) }
        let claims = sentences.filter { !$0.cited.isEmpty }
        let order = passageSentences.keys.sorted()
        let passageTexts = order.flatMap { passageSentences[$0]! }
        let vectors = try await embedder.embed(claims.map(\.body) + passageTexts)
        var claimVectors: [Range<Int>: [Float]] = [:]
        for (index, claim) in claims.enumerated() { claimVectors[claim.range] = vectors[index] }
        var passageVectors: [Int: [[Float]]] = [:]
        var offset = claims.count
        for number in order {
            let count = passageSentences[number]!.count
            passageVectors[number] = Array(vectors[offset..<(offset + count)])
            offset += count
        }

        func supports(_ number: Int, _ sentence: Sentence, numbers: Set<String>) -> Bool {
            guard let known = passageNumbers[number], numbers.isSubset(of: known.union(questionNumbers)) else { return false }
            guard let claim = claimVectors[sentence.range], let candidates = passageVectors[number] else { return false }
            let best = candidates.map { Self.cosine(claim, $0) }.max() ?? -1
            return best >= threshold
        }

        var result = Result(text: "", sentences: sentences.count, checked: claims.count, removed: [], recited: 0, supported: 0)
        var kept: [(index: Int, markers: [Int])] = []
        for (index, sentence) in sentences.enumerated() {
            let numbers = Self.numbers(sentence.body)
            if sentence.cited.isEmpty {
                if numbers.isSubset(of: allNumbers.union(questionNumbers)) {
                    kept.append((index, []))
                } else {
                    result.removed.append(sentence.body)
                }
                continue
            }
            let supporting = sentence.cited.filter { supports($0, sentence, numbers: numbers) }
            if !supporting.isEmpty {
                kept.append((index, supporting))
                result.supported += 1
            } else if let other = order.first(where: { !sentence.cited.contains($0) && supports($0, sentence, numbers: numbers) }) {
                kept.append((index, [other]))
                result.supported += 1
                result.recited += 1
            } else {
                result.removed.append(sentence.body)
            }
        }
        // The kept sentences, each after the white space (a space, a line break) that stood before it, their markers
        // rewritten.
        var output = ""
        for (index, markers) in kept {
            let sentence = sentences[index]
            if !output.isEmpty { output += index == 0 ? " " : Self.gap(units, from: sentences[index - 1].range.upperBound, to: sentence.range.lowerBound) }
            var body = String(decoding: units[sentence.range], as: UTF16.self)
            if !sentence.cited.isEmpty, markers != sentence.cited {
                // Markers of passages that do not support the sentence go; a sentence moved to another passage gets its
                // marker before the closing full stop, as the answer template asks.
                let keep = Set(markers)
                body = body.replacing(/[ \t]{0,3}\[(\d{1,4})\]/) { match in
                    Int(match.1).map(keep.contains) == true ? String(match.0) : ""
                }
                if keep.isDisjoint(with: sentence.cited) {
                    let marks = markers.map { "[\($0)]" }.joined()
                    if let last = body.last, ".!?".contains(last) {
                        body.removeLast()
                        body += " " + marks + String(last)
                    } else {
                        body += " " + marks
                    }
                }
            }
            output += body
        }
        result.text = output.trimmingCharacters(in: .whitespacesAndNewlines)
        return result
    }

    /// The sentences of `text`, a sentence's markers including those that open the next one ("… approve. [1] The …").
    package static func sentences(_ text: String) -> [Sentence] {
        let units = Array(text.utf16)
        var ranges = SentenceSplitter.sentences(in: text)
        // Markers at the start of a sentence belong to the one before.
        var index = 1
        while index < ranges.count {
            let string = String(decoding: units[ranges[index]], as: UTF16.self)
            if let leading = string.prefixMatch(of: /(?:[ \t]{0,3}\[\d{1,4}\])+[ \t]{0,3}/) {
                let length = String(string[leading.range]).utf16.count
                ranges[index - 1] = ranges[index - 1].lowerBound..<(ranges[index].lowerBound + length)
                if length >= ranges[index].count {
                    ranges.remove(at: index)
                    continue
                }
                ranges[index] = (ranges[index].lowerBound + length)..<ranges[index].upperBound
            }
            index += 1
        }
        return ranges.compactMap { range in
            let string = String(decoding: units[range], as: UTF16.self)
            let cited = string.matches(of: /\[(\d{1,4})\]/).compactMap { Int($0.1) }
            let body = withoutMarkers(string).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !body.isEmpty else { return nil }
            var unique: [Int] = []
            for number in cited where !unique.contains(number) { unique.append(number) }
            return Sentence(range: range, body: body, cited: unique)
        }
    }

    /// The sentences of a passage, and the passage itself when it has more than one (a claim may join two).
    static func passageSentences(_ passage: String) -> [String] {
        let units = Array(passage.utf16)
        var sentences = SentenceSplitter.sentences(in: passage).map { String(decoding: units[$0], as: UTF16.self) }
        sentences = sentences.filter { $0.count >= 3 }
        if sentences.count != 1 { sentences.append(String(passage.prefix(2_000))) }
        return sentences
    }

    /// The numbers a text states, canonical (`25k` → `25000`); 0 and 1 are left out (`one of the directors`, `no one`).
    package static func numbers(_ text: String) -> Set<String> {
        Set(FactMatcher.tokens(text).filter { token in
            guard let value = Double(token) else { return false }
            return value != 0 && value != 1
        })
    }

    static func withoutMarkers(_ text: String) -> String {
        text.replacing(/[ \t]{0,3}\[\d{1,4}\]/, with: "")
    }

    static func gap(_ units: [UInt16], from start: Int, to end: Int) -> String {
        guard start < end else { return " " }
        let gap = String(decoding: units[start..<end], as: UTF16.self)
        return gap.isEmpty ? " " : gap
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var dot: Float = 0
        for index in 0..<min(a.count, b.count) { dot += a[index] * b[index] }
        return Double(dot)
    }
}
