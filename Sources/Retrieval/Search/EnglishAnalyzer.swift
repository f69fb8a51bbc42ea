/// Turns text into the terms of the BM25 index the way Lucene's `EnglishAnalyzer` does, so scores are comparable
/// with published Lucene (Anserini, Pyserini) BM25 baselines.
///
/// The pipeline, in Lucene's order:
/// 1. Word segmentation after Unicode's word-boundary rules (UAX #29), as `StandardTokenizer`: a token is a run
///    of letters and digits, joined by `_` (connector punctuation); an apostrophe, `.` or `:` between two
///    letters stays inside ("don't", "u.s.a", "e.g" from "e.g."), and so do `.`, `,`, `;` or an apostrophe
///    between two digits ("3.5", "1,000"). Hyphens, slashes and all other punctuation separate tokens. Each CJK
///    ideograph and hiragana is a token of its own, runs of katakana are one. Combining marks and format
///    characters (the soft hyphen) stay inside the token they follow. Tokens longer than 255 UTF-16 code units
///    are cut there.
/// 2. `EnglishPossessiveFilter`: a trailing `'s`, `’s` or `＇s` is removed.
/// 3. `LowerCaseFilter`: each character's simple lower-case mapping, as Java's `Character.toLowerCase`.
/// 4. `StopFilter` with `stopWords` (compared after lower-casing).
/// 5. `PorterStemFilter` (see ``PorterStemmer``), unless `stem` is false.
///
/// Pictographs (©, ®, ™, 😀) are tokens of their own, as Lucene's emoji tokens, taken here as the non-ASCII
/// characters with the Unicode `Emoji` property; flags are tokens of two regional indicators. Runs of Thai, Lao,
/// Khmer or Myanmar letters are one token each, as Lucene leaves them (it has no dictionary segmentation
/// there). Hebrew letters keep a following apostrophe, and `"` between two of them (WB7a–c).
///
/// Checked against Lucene 9's `EnglishAnalyzer` (through Anserini): the same terms for all of SciFact and for
/// all but 10 of 60,000 random strings, whose differences are all skin-tone modifiers, zero-width joiners,
/// doubled variation selectors or flag halves next to punctuation or each other.
package struct EnglishAnalyzer: Sendable {
    /// Lucene's `EnglishAnalyzer.ENGLISH_STOP_WORDS_SET`.
    package static let defaultStopWords: Set<String> = [
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not", "of",
        "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "will",
        "with",
    ]

    /// Lower-case words dropped from the output.
    package var stopWords: Set<String> { filter.stopWords.words }
    /// Whether terms are reduced to their Porter stems.
    package var stem: Bool { filter.stem }
    private let filter: TermFilter

    package init(stopWords: Set<String> = EnglishAnalyzer.defaultStopWords, stem: Bool = true) {
        filter = TermFilter(stopWords: StopWordTable(stopWords), stem: stem)
    }

    /// The terms of `text`, in order, repeats kept.
    ///
    /// - Complexity: O(*n*) in the length of `text`.
    package func terms(_ text: String) -> [String] {
        var text = text
        return text.withUTF8 { terms(utf8: $0) }
    }

    /// The terms of `text`, in order, repeats kept.
    ///
    /// - Complexity: O(*n*) in the length of `text`.
    package func terms(_ text: Substring) -> [String] {
        var text = text
        return text.withUTF8 { terms(utf8: $0) }
    }

    private func terms(utf8 text: UnsafeBufferPointer<UInt8>) -> [String] {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Segmenter.capacity) { buffer in
            var segmenter = Segmenter(buffer: buffer.baseAddress!, filter: filter, expectedTerms: text.count / 8)
            var i = 0
            while i < text.count {
                let lead = text[i]
                if lead < 0x80 {
                    segmenter.feed(Unicode.Scalar(lead), as: WordBreak.ascii(lead))
                    i += 1
                    continue
                }
                // The input is valid UTF-8 (it comes from a String).
                let width = lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
                var value = UInt32(lead) & (width == 2 ? 0x1F : width == 3 ? 0x0F : 0x07)
                for n in 1..<width { value = value << 6 | UInt32(text[i + n] & 0x3F) }
                i += width
                let scalar = Unicode.Scalar(value) ?? "\u{FFFD}"
                segmenter.feed(scalar, as: WordBreak.of(scalar))
            }
            segmenter.finish()
            return segmenter.output
        }
    }
}

/// The filters after the tokenizer: possessive, stop words, stemming (lower-casing happens as tokens are built).
private struct TermFilter: Sendable {
    let stopWords: StopWordTable
    let stem: Bool

    func emit(_ token: Token, into output: inout [String]) {
        var length = token.bytes.count
        let bytes = token.bytes
        if length >= 3 && bytes[length - 1] == UInt8(ascii: "s") {
            if bytes[length - 2] == UInt8(ascii: "'") {
                length -= 2
            } else if length >= 5 && isWideApostrophe(bytes[(length - 4)..<(length - 1)]) {
                length -= 4
            }
        }
        let word = UnsafeMutableBufferPointer(rebasing: bytes[..<length])
        if stopWords.contains(UnsafeBufferPointer(word)) { return }
        if !stem {
            output.append(String(decoding: word, as: UTF8.self))
        } else if token.isASCII {
            let stemmed = PorterStemmer.stem(word)
            output.append(String(decoding: word[..<stemmed], as: UTF8.self))
        } else {
            output.append(PorterStemmer.stem(String(decoding: word, as: UTF8.self)))
        }
    }

    /// U+2019 (right single quotation mark) or U+FF07 (full-width apostrophe) in UTF-8.
    private func isWideApostrophe(_ bytes: Slice<UnsafeMutableBufferPointer<UInt8>>) -> Bool {
        let i = bytes.startIndex
        return (bytes[i] == 0xE2 && bytes[i + 1] == 0x80 && bytes[i + 2] == 0x99)
            || (bytes[i] == 0xEF && bytes[i + 1] == 0xBC && bytes[i + 2] == 0x87)
    }
}

/// A stop-word set answering for raw UTF-8 without building a `String` or hashing: words of up to 8 bytes are
/// packed into integers and binary-searched, since nearly every token is checked and most are short.
private struct StopWordTable: Sendable {
    let words: Set<String>
    private let packed: [UInt64]
    private let longer: Set<String>
    private let longest: Int

    init(_ words: Set<String>) {
        self.words = words
        let short = words.filter { $0.utf8.count <= 8 && !$0.utf8.contains(0) }
        packed = short.map { Self.pack($0.utf8) }.sorted()
        longer = words.subtracting(short)
        longest = words.lazy.map(\.utf8.count).max() ?? 0
    }

    func contains(_ word: UnsafeBufferPointer<UInt8>) -> Bool {
        guard word.count <= longest else { return false }
        guard word.count <= 8 else { return longer.contains(String(decoding: word, as: UTF8.self)) }
        let key = Self.pack(word)
        var low = 0
        var high = packed.count
        while low < high {
            let middle = (low + high) / 2
            if packed[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low < packed.count && packed[low] == key
    }

    /// Up to 8 bytes as an integer, first byte lowest; NUL-free words of different lengths never collide.
    private static func pack(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var key: UInt64 = 0
        var shift: UInt64 = 0
        for byte in bytes {
            key |= UInt64(byte) << shift
            shift += 8
        }
        return key
    }
}

/// A token handed from the segmenter to the filters: lower-cased UTF-8 in the segmenter's buffer, valid only
/// during the call.
private struct Token {
    var bytes: UnsafeMutableBufferPointer<UInt8>
    var isASCII: Bool
}

/// The UAX #29 word-break classes the segmenter tells apart.
private enum WordBreak {
    case other
    case letter
    /// A letter after which `'` stays in the word, and `"` between two of them too.
    case hebrewLetter
    case numeric
    case katakana
    /// Thai, Lao, Khmer, Myanmar and other scripts written without spaces: a run is one token.
    case southeastAsian
    /// Connector punctuation such as `_`, and the narrow no-break space: joins letters, digits and katakana on
    /// either side.
    case extendNumLet
    /// Combining marks and format characters, which belong to whatever precedes them (rule WB4).
    case extend
    /// Joins two letters: `:`, `·` and the like.
    case midLetter
    /// Joins two digits: `,`, `;` and the like.
    case midNum
    /// Joins two letters or two digits: `.`, `'`, `’`.
    case midNumLet
    /// `"`: joins two Hebrew letters only.
    case doubleQuote
    /// CJK ideographs and hiragana: one token per character.
    case ideographic
    /// Pictographs (©, ®, ™, ↔, 😀): a token each, with their modifiers and zero-width-joined sequels.
    case emoji
    /// Skin tones: part of the emoji before them, or an emoji of their own.
    case emojiModifier
    /// Flag halves: a token per pair, none for one alone.
    case regionalIndicator

    @inline(__always)
    static func ascii(_ byte: UInt8) -> WordBreak {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): .letter
        case UInt8(ascii: "0")...UInt8(ascii: "9"): .numeric
        case UInt8(ascii: "."), UInt8(ascii: "'"): .midNumLet
        case UInt8(ascii: ":"): .midLetter
        case UInt8(ascii: ","), UInt8(ascii: ";"): .midNum
        case UInt8(ascii: "_"): .extendNumLet
        case UInt8(ascii: "\""): .doubleQuote
        default: .other
        }
    }

    static func of(_ scalar: Unicode.Scalar) -> WordBreak {
        let value = scalar.value
        switch value {
        case 0x2018, 0x2019, 0x2024, 0xFE52, 0xFF07, 0xFF0E: return .midNumLet
        case 0x00B7, 0x0387, 0x055F, 0x05F4, 0x2027, 0xFE13, 0xFE55, 0xFF1A: return .midLetter
        case 0x037E, 0x0589, 0x060C, 0x060D, 0x066C, 0x07F8, 0x2044, 0xFE10, 0xFE14, 0xFE50, 0xFE54, 0xFF0C, 0xFF1B:
            return .midNum
        // The zero-width space separates words although it is a format character.
        case 0x200B: return .other
        case 0x202F: return .extendNumLet
        case 0x05D0...0x05EA, 0x05EF...0x05F2, 0xFB1D, 0xFB1F...0xFB28, 0xFB2A...0xFB4F: return .hebrewLetter
        case 0x3031...0x3035, 0x309B, 0x309C, 0x30A0...0x30FA, 0x30FC...0x30FF, 0x31F0...0x31FF, 0x32D0...0x32FE,
            0x3300...0x3357, 0xFF66...0xFF9D, 0x1B000:
            return .katakana
        case 0x1F1E6...0x1F1FF: return .regionalIndicator
        case 0x1F3FB...0x1F3FF: return .emojiModifier
        default: break
        }
        let properties = scalar.properties
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .format: return .extend
        case .connectorPunctuation: return .extendNumLet
        case .decimalNumber: return .numeric
        default: break
        }
        if properties.isIdeographic || (0x3040...0x309F).contains(value) { return .ideographic }
        if properties.isAlphabetic { return isSoutheastAsian(value) ? .southeastAsian : .letter }
        return properties.isEmoji ? .emoji : .other
    }

    /// The blocks of the scripts with Line_Break=Complex_Context (their letters; digits are numeric).
    private static func isSoutheastAsian(_ value: UInt32) -> Bool {
        switch value {
        case 0x0E00...0x0EFF, 0x1000...0x109F, 0x1780...0x17FF, 0x1950...0x1AAF, 0xA9E0...0xA9FF, 0xAA60...0xAADF,
            0x11700...0x1174F:
            true
        default: false
        }
    }

    /// Whether two word characters side by side stay in one token (WB5, WB8–WB10, WB13–WB13b).
    func joins(_ next: WordBreak) -> Bool {
        switch (self, next) {
        case (.letter, .letter), (.letter, .numeric), (.numeric, .letter), (.numeric, .numeric): true
        case (.katakana, .katakana), (.southeastAsian, .southeastAsian): true
        case (.letter, .extendNumLet), (.numeric, .extendNumLet), (.katakana, .extendNumLet), (.extendNumLet, .extendNumLet):
            true
        case (.extendNumLet, .letter), (.extendNumLet, .numeric), (.extendNumLet, .katakana): true
        default: false
        }
    }

    /// Whether this middle character may join a token whose last word character is `last` (WB6, WB11).
    func mayFollow(_ last: WordBreak) -> Bool {
        switch (last, self) {
        case (.letter, .midLetter), (.letter, .midNumLet), (.letter, .doubleQuote), (.numeric, .midNum), (.numeric, .midNumLet):
            true
        default: false
        }
    }
}

/// Builds tokens scalar by scalar into a fixed buffer, lower-casing as it goes.
///
/// A middle character (`.` in "u.s") is written tentatively: `committed` stays before it until the next word
/// character confirms the join, and the token is cut back to `committed` otherwise.
private struct Segmenter {
    /// Lucene's `StandardAnalyzer.DEFAULT_MAX_TOKEN_LENGTH`, in UTF-16 code units.
    static let maxTokenUnits = 255
    /// Bytes for the longest token: 4 per code unit covers every scalar, plus one tentative middle character.
    static let capacity = 4 * maxTokenUnits + 16

    private let buffer: UnsafeMutablePointer<UInt8>
    private let filter: TermFilter
    /// The terms so far.
    private(set) var output: [String] = []
    private var length = 0
    private var committed = 0
    private var units = 0
    private var committedUnits = 0
    /// Byte offset of the first non-ASCII byte, or `Int.max`.
    private var firstNonASCII = Int.max
    /// Class of the token's last character other than a mark or a middle character; `.other` when there is no
    /// token.
    private var last = WordBreak.other
    /// The class of a middle character written after `committed`, awaiting confirmation.
    private var pending: WordBreak?
    /// Whether the token is one to emit: it holds a letter, digit, ideograph or pictograph (a run of `_` alone
    /// is not a token, nor half a flag).
    private var hasWordCharacter = false
    /// Whether the last scalar appended was a zero-width joiner, which lets a pictograph continue an emoji.
    private var afterJoiner = false
    /// Zero-width joiners seen since the last token, kept for an emoji that may follow.
    private var leadingJoiners = 0
    /// Whether the last word character was a Hebrew letter, after which `'` stays and `"` may join (WB7a–c).
    private var afterHebrew = false

    init(buffer: UnsafeMutablePointer<UInt8>, filter: TermFilter, expectedTerms: Int) {
        self.buffer = buffer
        self.filter = filter
        output.reserveCapacity(expectedTerms)
    }

    @inline(__always)
    mutating func feed(_ scalar: Unicode.Scalar, as kind: WordBreak) {
        // Fast path for the common case: a letter or digit continuing a word of letters and digits.
        if (kind == .letter || kind == .numeric) && (last == .letter || last == .numeric) && pending == nil
            && units < Self.maxTokenUnits
        {
            append(scalar)
            commit()
            last = kind
            afterHebrew = false
            return
        }
        feedSlowly(scalar, as: kind)
    }

    private mutating func feedSlowly(_ scalar: Unicode.Scalar, as kind: WordBreak) {
        let emojiStart = kind == .emoji
        var kind = kind
        let value = scalar.value
        // Zero-width joiners before a pictograph belong to its emoji token; before anything else they vanish.
        if value == 0x200D && length == 0 {
            leadingJoiners += 1
            return
        }
        defer { leadingJoiners = 0 }
        if kind == .emojiModifier {
            let loneFlagHalf = last == .regionalIndicator && !hasWordCharacter
            kind = length > 0 && !loneFlagHalf ? .extend : .emoji
        }
        if kind == .extend {
            guard length > 0, units < Self.maxTokenUnits else { return }
            append(scalar)
            if pending == nil { commit() }
            return
        }
        let isHebrew = kind == .hebrewLetter
        if isHebrew { kind = .letter }
        // WB7a: an apostrophe after a Hebrew letter stays, whatever follows; after it the word goes on as after
        // a connector (letters and digits join, middle characters do not).
        if value == 0x27 && afterHebrew && pending == nil && units < Self.maxTokenUnits {
            append(scalar)
            commit()
            last = .extendNumLet
            afterHebrew = false
            return
        }
        if let middle = pending {
            pending = nil
            let joins =
                (kind == .letter && last == .letter && middle != .midNum && (middle != .doubleQuote || isHebrew))
                || (kind == .numeric && last == .numeric && (middle == .midNum || middle == .midNumLet))
            if joins && units < Self.maxTokenUnits {
                append(scalar)
                commit()
                afterHebrew = false  // Lucene keeps no apostrophe after a Hebrew letter reached through a middle one
                return
            }
            let tentative = committed..<length
            length = committed
            units = committedUnits
            flush()
            rescan(tentative)
        }
        switch kind {
        case .letter, .numeric, .katakana, .southeastAsian, .extendNumLet, .ideographic, .emoji, .regionalIndicator:
            let continues: Bool
            switch kind {
            case .emoji: continues = last == .emoji && afterJoiner
            case .regionalIndicator: continues = last == .regionalIndicator && length == 4
            default: continues = last.joins(kind)
            }
            if length > 0 && (!continues || units >= Self.maxTokenUnits) { flush() }
            if emojiStart && length == 0 {
                for _ in 0..<min(leadingJoiners, Self.maxTokenUnits - 2) { append("\u{200D}") }
            }
            append(scalar)
            commit()
            last = kind
            afterHebrew = isHebrew
            switch kind {
            case .extendNumLet: break
            case .regionalIndicator: hasWordCharacter = length == 8
            default: hasWordCharacter = true
            }
        case .midLetter, .midNum, .midNumLet, .doubleQuote:
            guard length > 0 else { return }
            if kind.mayFollow(last) && (kind != .doubleQuote || afterHebrew) && units < Self.maxTokenUnits {
                append(scalar)
                pending = kind
            } else {
                flush()
            }
        case .other, .extend, .emojiModifier, .hebrewLetter:
            if length > 0 { flush() }
        }
    }

    mutating func finish() {
        let tentative = committed..<length
        length = committed
        units = committedUnits
        if length > 0 { flush() }
        rescan(tentative)
        if length > 0 { flush() }
    }

    /// Feeds again what followed a middle character that joined nothing, as Lucene scans again from there: the
    /// middle character starts no token, but a skin-tone modifier or joiner after it may start an emoji.
    private mutating func rescan(_ bytes: Range<Int>) {
        guard let lead = bytes.first.map({ buffer[$0] }) else { return }
        let middleWidth = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
        guard bytes.count > middleWidth else { return }
        let scalars = String(decoding: UnsafeBufferPointer(start: buffer + bytes.lowerBound, count: bytes.count), as: UTF8.self)
        for scalar in scalars.unicodeScalars.dropFirst() {
            feedSlowly(scalar, as: scalar.value < 0x80 ? WordBreak.ascii(UInt8(scalar.value)) : WordBreak.of(scalar))
        }
    }

    @inline(__always)
    private mutating func commit() {
        committed = length
        committedUnits = units
    }

    @inline(__always)
    private mutating func append(_ scalar: Unicode.Scalar) {
        let value = scalar.value
        afterJoiner = value == 0x200D
        if value < 0x80 {
            let byte = UInt8(truncatingIfNeeded: value)
            buffer[length] = byte &+ (byte &- UInt8(ascii: "A") < 26 ? 32 : 0)
            length += 1
            units += 1
            return
        }
        if firstNonASCII == Int.max { firstNonASCII = length }
        let lower = Self.lowercase(scalar)
        for byte in lower.utf8 {
            buffer[length] = byte
            length += 1
        }
        units += lower.utf16.count
    }

    /// Java's `Character.toLowerCase`: the simple (one-to-one) mapping.
    private static func lowercase(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        let properties = scalar.properties
        guard properties.changesWhenLowercased else { return scalar }
        // U+0130 (İ) is the one scalar whose full mapping differs from its simple one ("i" + U+0307).
        if scalar.value == 0x130 { return "i" }
        let mapped = properties.lowercaseMapping.unicodeScalars
        return mapped.count == 1 ? mapped.first! : scalar
    }

    private mutating func flush() {
        if hasWordCharacter {
            let token = Token(bytes: UnsafeMutableBufferPointer(start: buffer, count: length), isASCII: firstNonASCII >= length)
            filter.emit(token, into: &output)
        }
        length = 0
        committed = 0
        units = 0
        committedUnits = 0
        firstNonASCII = Int.max
        last = .other
        pending = nil
        hasWordCharacter = false
        afterJoiner = false
        afterHebrew = false
    }
}
