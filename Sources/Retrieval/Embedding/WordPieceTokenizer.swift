import Foundation

/// The BERT uncased tokenizer: the same token ids as the reference (`tokenizers`' `BertNormalizer`,
/// `BertPreTokenizer` and `WordPiece`) for every input.
///
/// Normalisation, in the reference's order: drop NUL, U+FFFD and control, format and private-use characters,
/// turn whitespace into spaces; put spaces around CJK ideographs; strip accents (NFD, then drop non-spacing
/// marks); lower-case. Pre-tokenisation splits on whitespace and isolates every punctuation character (ASCII
/// punctuation and the Unicode P* categories). Each word then becomes the longest matching vocabulary pieces,
/// continuations prefixed `##`; a word with no full decomposition, or longer than 100 characters, is `[UNK]`.
/// The special tokens (`[CLS]`, `[SEP]`, `[PAD]`, `[UNK]`, `[MASK]`) written literally in the text are
/// recognised as themselves, as the reference does.
public struct WordPieceTokenizer: Sendable {
    public let vocabulary: [String: Int32]
    public let unknownID: Int32
    public let classifierID: Int32
    public let separatorID: Int32
    public let paddingID: Int32
    /// Longest sequence produced, `[CLS]` and `[SEP]` included.
    public let maxLength: Int
    private let specialTokens: [(text: [Unicode.Scalar], id: Int32)]
    /// Longer words are `[UNK]`, as in the reference; the chunker cuts longer runs at this length.
    public static let maxWordCharacters = 100
    /// The most scalars of any vocabulary piece (without `##`): no longer candidate can match, so the greedy search
    /// starts there instead of at the word's end.
    private let longestPiece: Int

    /// Loads `vocab.txt` (one token a line; the line number is the id).
    /// - Throws: ``EmbeddingError`` when the file is missing or lacks a special token.
    public init(vocabularyFile path: String, maxLength: Int = 256) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw EmbeddingError.modelMissing("cannot read the vocabulary \(path)")
        }
        var vocabulary = [String: Int32]()
        var id: Int32 = 0
        text.enumerateLines { line, _ in
            vocabulary[line] = vocabulary[line] ?? id
            id += 1
        }
        try self.init(vocabulary: vocabulary, maxLength: maxLength)
    }

    public init(vocabulary: [String: Int32], maxLength: Int = 256) throws {
        func special(_ token: String) throws -> Int32 {
            guard let id = vocabulary[token] else { throw EmbeddingError.modelCorrupt("the vocabulary has no \(token) token") }
            return id
        }
        self.vocabulary = vocabulary
        longestPiece = vocabulary.keys.reduce(1) { longest, piece in
            max(longest, piece.hasPrefix("##") ? piece.unicodeScalars.count - 2 : piece.unicodeScalars.count)
        }
        unknownID = try special("[UNK]")
        classifierID = try special("[CLS]")
        separatorID = try special("[SEP]")
        paddingID = try special("[PAD]")
        let mask = try special("[MASK]")
        self.maxLength = max(2, maxLength)
        specialTokens = [("[PAD]", paddingID), ("[UNK]", unknownID), ("[CLS]", classifierID), ("[SEP]", separatorID), ("[MASK]", mask)]
            .map { (Array($0.0.unicodeScalars), $0.1) }
    }

    /// The ids of `text`: `[CLS]`, the word pieces (truncated to `maxLength - 2`), `[SEP]`.
    public func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = [classifierID]
        appendPieces(of: text, to: &ids, budget: maxLength - 1)
        ids.append(separatorID)
        return ids
    }

    /// How many word pieces `text` has, without truncation and without `[CLS]`/`[SEP]`: what the chunker
    /// measures passages with.
    public func pieceCount(_ text: String) -> Int {
        var ids: [Int32] = []
        appendPieces(of: text, to: &ids, budget: .max)
        return ids.count
    }

    private func appendPieces(of text: String, to ids: inout [Int32], budget: Int) {
        let scalars = Array(text.unicodeScalars)
        var start = 0
        var i = 0
        // Literal special tokens split the text before normalisation.
        while i < scalars.count && ids.count < budget {
            if scalars[i] == "[", let (length, id) = specialToken(at: i, in: scalars) {
                appendPieces(of: scalars[start..<i], to: &ids, budget: budget)
                if ids.count < budget { ids.append(id) }
                i += length
                start = i
            } else {
                i += 1
            }
        }
        if ids.count < budget { appendPieces(of: scalars[start..<scalars.count], to: &ids, budget: budget) }
    }

    /// The word pieces of `text` as strings, without `[CLS]`/`[SEP]` (for tests and debugging).
    public func tokens(_ text: String) -> [String] {
        let reverse = Dictionary(vocabulary.map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        return encode(text).dropFirst().dropLast().map { reverse[$0] ?? "?" }
    }

    private func specialToken(at index: Int, in scalars: [Unicode.Scalar]) -> (Int, Int32)? {
        for (token, id) in specialTokens where index + token.count <= scalars.count {
            var matches = true
            for j in 0..<token.count where scalars[index + j] != token[j] {
                matches = false
                break
            }
            if matches { return (token.count, id) }
        }
        return nil
    }

    private func appendPieces(of raw: ArraySlice<Unicode.Scalar>, to ids: inout [Int32], budget: Int) {
        guard !raw.isEmpty else { return }
        for word in Self.words(Self.normalize(raw)) {
            if ids.count >= budget { return }
            wordPieces(word, into: &ids, budget: budget)
        }
    }

    // MARK: - Normalisation (BertNormalizer)

    static func normalize(_ raw: ArraySlice<Unicode.Scalar>) -> String {
        var cleaned = String.UnicodeScalarView()
        for scalar in raw {
            if scalar.value == 0 || scalar.value == 0xFFFD || isControl(scalar) { continue }
            if isWhitespace(scalar) {
                cleaned.append(" ")
            } else if isChineseCharacter(scalar) {
                cleaned.append(" ")
                cleaned.append(scalar)
                cleaned.append(" ")
            } else {
                cleaned.append(scalar)
            }
        }
        // Strip accents (NFD, drop non-spacing marks), then lower-case, as the reference orders them.
        var stripped = String.UnicodeScalarView()
        for scalar in String(cleaned).decomposedStringWithCanonicalMapping.unicodeScalars
        where scalar.properties.generalCategory != .nonspacingMark {
            stripped.append(scalar)
        }
        return lowercase(String(stripped))
    }

    /// Full Unicode lower-casing, scalar by scalar, as the reference does: no context rules (a final Σ becomes σ,
    /// not ς, which `String.lowercased()` would give).
    /// - Complexity: O(n). (Appending each mapping with `append(contentsOf:)` copied the whole text every time:
    ///   quadratic, 17 s for a 1 MB line; `Benchmarks/README.md`, "Document size".)
    static func lowercase(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                let value = scalar.value
                out.append((65...90).contains(value) ? Unicode.Scalar(value + 32)! : scalar)
                continue
            }
            for mapped in scalar.properties.lowercaseMapping.unicodeScalars { out.append(mapped) }
        }
        return String(out)
    }

    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar.properties.isWhitespace
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "\t" || scalar == "\n" || scalar == "\r" { return false }
        switch scalar.properties.generalCategory {
        // Unassigned code points are kept, as the reference keeps them.
        case .control, .format, .privateUse, .surrogate: return true
        default: return false
        }
    }

    static func isChineseCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F, 0x2B920...0x2CEAF,
            0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }

    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let v = scalar.value
            return (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v)
        }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation, .finalPunctuation,
            .otherPunctuation:
            return true
        default:
            return false
        }
    }

    // MARK: - Pre-tokenisation (BertPreTokenizer)

    /// Splits on whitespace and isolates punctuation.
    static func words(_ text: String) -> [String.UnicodeScalarView] {
        var words = [String.UnicodeScalarView]()
        var current = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.properties.isWhitespace || scalar == "\t" || scalar == "\n" || scalar == "\r" {
                if !current.isEmpty { words.append(current) }
                current = String.UnicodeScalarView()
            } else if isPunctuation(scalar) {
                if !current.isEmpty { words.append(current) }
                current = String.UnicodeScalarView()
                words.append(String.UnicodeScalarView([scalar]))
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    // MARK: - WordPiece

    private func wordPieces(_ word: String.UnicodeScalarView, into ids: inout [Int32], budget: Int) {
        let scalars = Array(word)
        if scalars.count > Self.maxWordCharacters {
            ids.append(unknownID)
            return
        }
        var pieces = [Int32]()
        var start = 0
        while start < scalars.count {
            var end = min(scalars.count, start + longestPiece)
            var found: Int32?
            while start < end {
                var candidate = String(String.UnicodeScalarView(scalars[start..<end]))
                if start > 0 { candidate = "##" + candidate }
                if let id = vocabulary[candidate] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let id = found else {
                ids.append(unknownID)
                return
            }
            pieces.append(id)
            start = end
        }
        for piece in pieces {
            if ids.count >= budget { return }
            ids.append(piece)
        }
    }
}
