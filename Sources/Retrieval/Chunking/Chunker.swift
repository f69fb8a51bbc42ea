public import Storage

/// A passage cut from a document body: its text and where it sits.
public struct Passage: Sendable, Equatable {
    public var text: String
    /// UTF-16 offsets into the body.
    public var start: Int
    public var end: Int
    /// Word pieces of `text` (without the title).
    public var tokenCount: Int
}

/// Cuts documents into passages the embedder and BM25 index.
///
/// Prose: sentences packed into passages of about `targetTokens` word pieces, each starting with the last
/// sentences of the one before (about `overlapTokens`), so an answer that straddles a cut is found whole.
/// Records (`Field: value` lines) stay one passage when they fit, else they are cut between lines without
/// overlap. The title is not part of a passage's text, but it counts against the model's window because
/// ``indexedText(title:passage:)`` puts it in front of every passage that is embedded.
public struct Chunker: Sendable {
    /// What passages aim for, in word pieces.
    public var targetTokens: Int
    /// Never more than this per passage plus title (the built-in model reads 256 pieces with `[CLS]`/`[SEP]`).
    public var maxTokens: Int
    public var overlapTokens: Int
    private let countTokens: @Sendable (String) -> Int

    /// - Parameter countTokens: the word pieces of a text, as the embedder's tokenizer counts them.
    public init(targetTokens: Int = 220, maxTokens: Int = 254, overlapTokens: Int = 40, countTokens: @escaping @Sendable (String) -> Int) {
        self.targetTokens = max(16, targetTokens)
        self.maxTokens = max(self.targetTokens, maxTokens)
        self.overlapTokens = max(0, min(overlapTokens, self.targetTokens / 2))
        self.countTokens = countTokens
    }

    /// A chunker that counts with `tokenizer`.
    public init(tokenizer: WordPieceTokenizer, targetTokens: Int = 220, overlapTokens: Int = 40) {
        self.init(targetTokens: targetTokens, maxTokens: tokenizer.maxLength - 2, overlapTokens: overlapTokens) { tokenizer.pieceCount($0) }
    }

    /// What is embedded and indexed for a passage: the title gives every passage its document's context.
    public static func indexedText(title: String, passage: String) -> String {
        title.isEmpty ? passage : title + "\n" + passage
    }

    /// The passages of a document, in order; an empty body gives none.
    /// - Complexity: O(n) in the body length, plus one token count per sentence.
    public func passages(title: String, body: String, kind: DocumentKind) -> [Passage] {
        let titleTokens = title.isEmpty ? 0 : countTokens(title) + 1
        let budget = max(16, min(targetTokens, maxTokens - titleTokens))
        let hardLimit = max(budget, maxTokens - titleTokens)
        let units = Array(body.utf16)
        func text(_ range: Range<Int>) -> String { String(decoding: units[range], as: UTF16.self) }

        var pieces: [(range: Range<Int>, tokens: Int)] = []
        for sentence in SentenceSplitter.sentences(in: body) {
            let tokens = countTokens(text(sentence))
            // A run the tokenizer reads as one unknown word counts one token whatever its length: length bounds it too.
            if tokens <= hardLimit && sentence.count <= hardLimit * 8 {
                pieces.append((sentence, tokens))
            } else {
                pieces += splitLong(sentence, units: units, budget: budget)
            }
        }
        guard !pieces.isEmpty else { return [] }

        let total = pieces.reduce(0) { $0 + $1.tokens }
        if kind == .record && total + pieces.count <= hardLimit {
            let range = pieces.first!.range.lowerBound..<pieces.last!.range.upperBound
            return [Passage(text: text(range), start: range.lowerBound, end: range.upperBound, tokenCount: countTokens(text(range)))]
        }
        let overlap = kind == .record ? 0 : overlapTokens
        // Tokens from each piece to the end, so the tail check below is O(1) per passage.
        var tokensFrom = [Int](repeating: 0, count: pieces.count + 1)
        for index in stride(from: pieces.count - 1, through: 0, by: -1) { tokensFrom[index] = tokensFrom[index + 1] + pieces[index].tokens }

        var passages: [Passage] = []
        var first = 0
        while first < pieces.count {
            var last = first
            var tokens = pieces[first].tokens
            while last + 1 < pieces.count, tokens + pieces[last + 1].tokens <= budget {
                last += 1
                tokens += pieces[last].tokens
            }
            // A short tail joins the passage before it when the model's window allows.
            if last + 1 < pieces.count {
                let rest = tokensFrom[last + 1]
                if rest < budget / 8 && tokens + rest <= hardLimit {
                    last = pieces.count - 1
                    tokens += rest
                }
            }
            let range = pieces[first].range.lowerBound..<pieces[last].range.upperBound
            passages.append(Passage(text: text(range), start: range.lowerBound, end: range.upperBound, tokenCount: tokens))
            if last == pieces.count - 1 { break }
            // The next passage starts with the last sentences of this one, up to the overlap, and always advances.
            // (Carrying a longer last sentence regardless measured worse on SciFact: more, more redundant passages.)
            var next = last + 1
            var carried = 0
            while next - 1 > first, carried + pieces[next - 1].tokens <= overlap {
                next -= 1
                carried += pieces[next].tokens
            }
            first = next
        }
        return passages
    }

    /// Cuts a sentence longer than the window into word-aligned pieces of about `budget` word pieces. A run without
    /// white space longer than the tokenizer reads as one word (a URL, a base64 blob, a file with no spaces at all) is
    /// cut every 100 characters, so no passage grows without bound.
    private func splitLong(_ range: Range<Int>, units: [UInt16], budget: Int) -> [(range: Range<Int>, tokens: Int)] {
        var words: [Range<Int>] = []
        var i = range.lowerBound
        let longest = WordPieceTokenizer.maxWordCharacters
        while i < range.upperBound {
            while i < range.upperBound, units[i] == 0x20 || units[i] == 0x09 { i += 1 }
            var s = i
            while i < range.upperBound, units[i] != 0x20, units[i] != 0x09 {
                i += 1
                // Not inside a surrogate pair.
                if i - s >= longest, i < range.upperBound, !(0xDC00...0xDFFF).contains(units[i]) {
                    words.append(s..<i)
                    s = i
                }
            }
            if s < i { words.append(s..<i) }
        }
        // BERT's tokenizer splits on white space first, so a run of words has the sum of its words' pieces.
        let counts = words.map { countTokens(String(decoding: units[$0], as: UTF16.self)) }
        var result: [(range: Range<Int>, tokens: Int)] = []
        var start = 0
        while start < words.count {
            var end = start + 1
            var tokens = counts[start]
            while end < words.count, tokens + counts[end] <= budget {
                tokens += counts[end]
                end += 1
            }
            result.append((words[start].lowerBound..<words[end - 1].upperBound, tokens))
            start = end
        }
        return result
    }
}
