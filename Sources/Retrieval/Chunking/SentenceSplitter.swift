/// Finds sentence boundaries in prose, as UTF-16 ranges of the original text.
///
/// Rule based, tuned for business and scientific English: a sentence ends at `.`, `!` or `?` (with closing
/// quotes or brackets) followed by white space and an upper-case letter, digit, quote or bracket, unless the
/// word before the full stop is a known abbreviation, a single letter (an initial) or a number's part. Line
/// breaks always end a sentence, so lists, headings and `Field: value` lines stay apart.
package enum SentenceSplitter {
    static let abbreviations: Set<String> = [
        "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "eg", "e.g", "ie", "i.e", "al", "fig", "figs", "no", "nos",
        "vol", "pp", "p", "approx", "inc", "ltd", "co", "corp", "dept", "est", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
        "sep", "sept", "oct", "nov", "dec", "ref", "refs", "eq", "cf", "ca", "resp", "u.s", "u.k", "e.u", "ph.d", "b.v", "n.v",
    ]

    /// The sentences of `text`: UTF-16 offset ranges, trimmed of surrounding white space, none empty.
    package static func sentences(in text: String) -> [Range<Int>] {
        let units = Array(text.utf16)
        var result: [Range<Int>] = []
        var start = 0

        func emit(_ end: Int) {
            var s = start
            var e = end
            while s < e, isSpace(units[s]) { s += 1 }
            while e > s, isSpace(units[e - 1]) { e -= 1 }
            if s < e { result.append(s..<e) }
            start = end
        }

        var i = 0
        while i < units.count {
            let u = units[i]
            if u == 0x0A {  // \n
                emit(i)
                i += 1
                continue
            }
            if u == 0x2E || u == 0x21 || u == 0x3F {  // . ! ?
                var j = i + 1
                while j < units.count, units[j] == 0x2E || units[j] == 0x21 || units[j] == 0x3F || isCloser(units[j]) { j += 1 }
                guard j < units.count, isSpace(units[j]) else {
                    i = j
                    continue
                }
                var k = j
                while k < units.count, isSpace(units[k]), units[k] != 0x0A { k += 1 }
                if k == units.count || units[k] == 0x0A || startsSentence(units[k]) {
                    if u != 0x2E || !endsWithAbbreviation(units, before: i) {
                        emit(j)
                        i = j
                        continue
                    }
                }
                i = j
                continue
            }
            i += 1
        }
        emit(units.count)
        return result
    }

    private static func isSpace(_ u: UInt16) -> Bool { u == 0x20 || u == 0x09 || u == 0x0A || u == 0x0D || u == 0xA0 }
    private static func isCloser(_ u: UInt16) -> Bool { u == 0x22 || u == 0x27 || u == 0x29 || u == 0x5D || u == 0x2019 || u == 0x201D }

    private static func startsSentence(_ u: UInt16) -> Bool {
        (u >= 0x41 && u <= 0x5A) || (u >= 0x30 && u <= 0x39) || u == 0x22 || u == 0x27 || u == 0x28 || u == 0x5B || u == 0x201C
            || u == 0x2018 || u == 0x2022 || u == 0x2D || u > 0x7F
    }

    /// Whether the word that ends at the full stop at `dot` is an abbreviation or an initial.
    private static func endsWithAbbreviation(_ units: [UInt16], before dot: Int) -> Bool {
        var s = dot
        while s > 0, !isSpace(units[s - 1]), units[s - 1] != 0x28 { s -= 1 }
        guard s < dot else { return false }
        let word = String(decoding: units[s..<dot], as: UTF16.self).lowercased()
        if word.count == 1, let c = word.first, c.isLetter { return true }
        return abbreviations.contains(word)
    }
}
