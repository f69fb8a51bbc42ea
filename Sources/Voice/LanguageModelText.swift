/// How the language model reads text: lower case, words as runs of letters and apostrophes (apostrophes at either
/// end trimmed), sentences ended by punctuation and by numbers, which are not spoken as the digits' words.
public enum LanguageModelText {
    /// What ends a sentence in the documents.
    public static let sentenceBreaks: Set<Unicode.Scalar> = ["\n", ".", "?", "!", ";", ":"]
    /// What ends a clause when mining phrases: sentence ends, table cells, brackets and quotes.
    public static let clauseBreaks: Set<Unicode.Scalar> = sentenceBreaks.union(["|", "(", ")", "\""])

    /// The words of `text`, piece by piece: a piece ends at any of `breaks` and at every digit. A lone apostrophe is
    /// kept as the empty word (it is no word of any dictionary, so it ends a sentence like an unknown word).
    /// - Complexity: O(characters).
    public static func pieces(_ text: String, breaks: Set<Unicode.Scalar>) -> [[String]] {
        var result: [[String]] = []
        var piece: [String] = []
        var word = String.UnicodeScalarView()
        func endWord() {
            guard !word.isEmpty else { return }
            piece.append(trimmed(word))
            word = String.UnicodeScalarView()
        }
        for scalar in text.unicodeScalars {
            if breaks.contains(scalar) || isDigit(scalar) {
                endWord()
                if !piece.isEmpty { result.append(piece) }
                piece = []
            } else if isWordPart(scalar) {
                word.append(scalar)
            } else {
                endWord()
            }
        }
        endWord()
        if !piece.isEmpty { result.append(piece) }
        return result
    }

    /// Every word of `text` in order (digits separate words; no empty words).
    public static func words(_ text: String) -> [String] {
        pieces(text, breaks: []).joined().filter { !$0.isEmpty }
    }

    /// Letters, numerals that are not digits (Ⅻ, ½) and apostrophes make words.
    public static func isWordPart(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let value = scalar.value
            return (value >= 0x61 && value <= 0x7A) || (value >= 0x41 && value <= 0x5A) || value == 0x27
        }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    public static func isDigit(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII ? (scalar.value >= 0x30 && scalar.value <= 0x39) : scalar.properties.generalCategory == .decimalNumber
    }

    private static func trimmed(_ word: String.UnicodeScalarView) -> String {
        var start = word.startIndex
        var end = word.endIndex
        while start < end && word[start] == "'" { start = word.index(after: start) }
        while end > start && word[word.index(before: end)] == "'" { end = word.index(before: end) }
        return String(String.UnicodeScalarView(word[start..<end]))
    }
}
