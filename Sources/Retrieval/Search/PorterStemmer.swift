/// The Porter (1980) stemmer as Lucene's `PorterStemmer` (behind `PorterStemFilter` and `EnglishAnalyzer`)
/// implements it, which is Martin Porter's reference C implementation.
///
/// That implementation departs from the published paper in three places, and so does this one: step 2 maps
/// `-bli` to `-ble` (the paper: `-abli` to `-able`), step 2 also maps `-logi` to `-log`, and words of one or two
/// characters are left alone. NLTK reproduces it as `PorterStemmer(mode=PorterStemmer.MARTIN_EXTENSIONS)`; its
/// `ORIGINAL_ALGORITHM` mode is the paper without the departures.
///
/// Like Lucene, the rules run over code units: any character other than `a e i o u` (and `y` after a consonant)
/// counts as a consonant, so digits, punctuation and non-ASCII letters take part as consonants. An ASCII word is
/// stemmed over its bytes; any other word over its UTF-16 code units, exactly as Java's `char`s.
package enum PorterStemmer {
    /// The stem of a lower-case word.
    ///
    /// - Complexity: O(*n*²) in the word's length *n* at worst (the measure is recounted per rule); words are short.
    package static func stem(_ word: String) -> String {
        let count = word.utf8.count
        guard count > 2 else { return word }
        if word.utf8.allSatisfy({ $0 < 0x80 }) {
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count) { buffer in
                _ = buffer.initialize(from: word.utf8)
                let length = stem(buffer)
                return String(decoding: buffer[..<length], as: UTF8.self)
            }
        }
        var units = Array(word.utf16)
        let length = units.withUnsafeMutableBufferPointer { stem($0) }
        return String(decoding: units[..<length], as: UTF16.self)
    }

    /// Stems the ASCII word in `word` in place and returns the stem's length (the stem is `word[..<length]`).
    package static func stem(_ word: UnsafeMutableBufferPointer<UInt8>) -> Int {
        guard word.count > 2 else { return word.count }
        var stemming = Stemming(word)
        return stemming.run()
    }

    /// Stems the UTF-16 word in `word` in place and returns the stem's length in code units.
    package static func stem(_ word: UnsafeMutableBufferPointer<UInt16>) -> Int {
        guard word.count > 2 else { return word.count }
        var stemming = Stemming(word)
        return stemming.run()
    }
}

/// One word being stemmed, in the reference implementation's terms: `b[0...k]` is the current word, and `j`
/// marks the end of the stem once `ends(_:)` has matched a suffix.
private struct Stemming<Unit: FixedWidthInteger & UnsignedInteger> {
    private let b: UnsafeMutableBufferPointer<Unit>
    private var k: Int
    private var j = 0

    init(_ word: UnsafeMutableBufferPointer<Unit>) {
        b = word
        k = word.count - 1
    }

    mutating func run() -> Int {
        step1ab()
        step1c()
        step2()
        step3()
        step4()
        step5()
        return k + 1
    }

    @inline(__always)
    private func at(_ i: Int) -> UInt32 { UInt32(truncatingIfNeeded: b[i]) }

    @inline(__always)
    private static func code(_ c: Unicode.Scalar) -> UInt32 { c.value }

    /// Whether `b[i]` is a consonant: not `a e i o u`, and `y` only at the start or after a vowel. The `y` rule
    /// recurses to the left in the reference; walking back and flipping the answer per `y` is the same.
    @inline(__always)
    private func isConsonant(_ i: Int) -> Bool {
        var i = i
        var flipped = false
        while true {
            switch at(i) {
            case Self.code("a"), Self.code("e"), Self.code("i"), Self.code("o"), Self.code("u"): return flipped
            case Self.code("y") where i > 0:
                flipped.toggle()
                i -= 1
            default: return !flipped
            }
        }
    }

    /// The number of vowel-consonant sequences in `b[0...j]` (Porter's *m*).
    private func measure() -> Int {
        var n = 0
        var i = 0
        while true {
            if i > j { return n }
            if !isConsonant(i) { break }
            i += 1
        }
        i += 1
        while true {
            while true {
                if i > j { return n }
                if isConsonant(i) { break }
                i += 1
            }
            i += 1
            n += 1
            while true {
                if i > j { return n }
                if !isConsonant(i) { break }
                i += 1
            }
            i += 1
        }
    }

    private func vowelInStem() -> Bool {
        var i = 0
        while i <= j {
            if !isConsonant(i) { return true }
            i += 1
        }
        return false
    }

    private func doubleConsonant(_ i: Int) -> Bool {
        i >= 1 && b[i] == b[i - 1] && isConsonant(i)
    }

    /// Whether `b[i-2...i]` is consonant-vowel-consonant with the last not `w`, `x` or `y` (hop(e), but snow).
    private func consonantVowelConsonant(_ i: Int) -> Bool {
        guard i >= 2, isConsonant(i), !isConsonant(i - 1), isConsonant(i - 2) else { return false }
        let c = at(i)
        return c != Self.code("w") && c != Self.code("x") && c != Self.code("y")
    }

    /// Whether the word ends in `suffix`; if so, `j` becomes the end of the stem before it.
    @inline(__always)
    private mutating func ends(_ suffix: StaticString) -> Bool {
        let length = suffix.utf8CodeUnitCount
        let start = k - length + 1
        guard start >= 0 else { return false }
        let bytes = suffix.utf8Start
        for i in 0..<length where at(start + i) != UInt32(bytes[i]) { return false }
        j = k - length
        return true
    }

    /// Replaces `b[j+1...k]` with `replacement`; never longer than what it replaces, so the buffer suffices.
    private mutating func setTo(_ replacement: StaticString) {
        let length = replacement.utf8CodeUnitCount
        let bytes = replacement.utf8Start
        for i in 0..<length { b[j + 1 + i] = Unit(bytes[i]) }
        k = j + length
    }

    private mutating func replaceIfMeasured(_ replacement: StaticString) {
        if measure() > 0 { setTo(replacement) }
    }

    /// Plurals, `-ed` and `-ing`: caresses → caress, ponies → poni, agreed → agree, hopping → hop, filing → file.
    private mutating func step1ab() {
        if at(k) == Self.code("s") {
            if ends("sses") {
                k -= 2
            } else if ends("ies") {
                setTo("i")
            } else if at(k - 1) != Self.code("s") {
                k -= 1
            }
        }
        if ends("eed") {
            if measure() > 0 { k -= 1 }
        } else if (ends("ed") || ends("ing")) && vowelInStem() {
            k = j
            if ends("at") {
                setTo("ate")
            } else if ends("bl") {
                setTo("ble")
            } else if ends("iz") {
                setTo("ize")
            } else if doubleConsonant(k) {
                let c = at(k)
                if c != Self.code("l") && c != Self.code("s") && c != Self.code("z") { k -= 1 }
            } else if measure() == 1 && consonantVowelConsonant(k) {
                setTo("e")
            }
        }
    }

    /// A final `y` becomes `i` when the stem has a vowel: happy → happi, sky → sky.
    private mutating func step1c() {
        if ends("y") && vowelInStem() { b[k] = Unit(UInt8(ascii: "i")) }
    }

    /// Double suffixes become single ones: relational → relate, generalization → generalize.
    private mutating func step2() {
        guard k > 0 else { return }
        switch at(k - 1) {
        case Self.code("a"):
            if ends("ational") {
                replaceIfMeasured("ate")
            } else if ends("tional") {
                replaceIfMeasured("tion")
            }
        case Self.code("c"):
            if ends("enci") {
                replaceIfMeasured("ence")
            } else if ends("anci") {
                replaceIfMeasured("ance")
            }
        case Self.code("e"):
            if ends("izer") { replaceIfMeasured("ize") }
        case Self.code("l"):
            if ends("bli") {
                replaceIfMeasured("ble")
            } else if ends("alli") {
                replaceIfMeasured("al")
            } else if ends("entli") {
                replaceIfMeasured("ent")
            } else if ends("eli") {
                replaceIfMeasured("e")
            } else if ends("ousli") {
                replaceIfMeasured("ous")
            }
        case Self.code("o"):
            if ends("ization") {
                replaceIfMeasured("ize")
            } else if ends("ation") {
                replaceIfMeasured("ate")
            } else if ends("ator") {
                replaceIfMeasured("ate")
            }
        case Self.code("s"):
            if ends("alism") {
                replaceIfMeasured("al")
            } else if ends("iveness") {
                replaceIfMeasured("ive")
            } else if ends("fulness") {
                replaceIfMeasured("ful")
            } else if ends("ousness") {
                replaceIfMeasured("ous")
            }
        case Self.code("t"):
            if ends("aliti") {
                replaceIfMeasured("al")
            } else if ends("iviti") {
                replaceIfMeasured("ive")
            } else if ends("biliti") {
                replaceIfMeasured("ble")
            }
        case Self.code("g"):
            if ends("logi") { replaceIfMeasured("log") }
        default:
            break
        }
    }

    /// `-ic-`, `-full`, `-ness` and the like: triplicate → triplic, hopeful → hope, goodness → good.
    private mutating func step3() {
        switch at(k) {
        case Self.code("e"):
            if ends("icate") {
                replaceIfMeasured("ic")
            } else if ends("ative") {
                replaceIfMeasured("")
            } else if ends("alize") {
                replaceIfMeasured("al")
            }
        case Self.code("i"):
            if ends("iciti") { replaceIfMeasured("ic") }
        case Self.code("l"):
            if ends("ical") {
                replaceIfMeasured("ic")
            } else if ends("ful") {
                replaceIfMeasured("")
            }
        case Self.code("s"):
            if ends("ness") { replaceIfMeasured("") }
        default:
            break
        }
    }

    /// `-ant`, `-ence` and the like, when the stem keeps *m* > 1: revival → reviv, adjustment → adjust.
    private mutating func step4() {
        guard k > 0 else { return }
        let matched: Bool
        switch at(k - 1) {
        case Self.code("a"): matched = ends("al")
        case Self.code("c"): matched = ends("ance") || ends("ence")
        case Self.code("e"): matched = ends("er")
        case Self.code("i"): matched = ends("ic")
        case Self.code("l"): matched = ends("able") || ends("ible")
        // The first suffix that matches decides: "element" is not stripped to "el" through -ent.
        case Self.code("n"): matched = ends("ant") || ends("ement") || ends("ment") || ends("ent")
        case Self.code("o"):
            matched = (ends("ion") && j >= 0 && (at(j) == Self.code("s") || at(j) == Self.code("t"))) || ends("ou")
        case Self.code("s"): matched = ends("ism")
        case Self.code("t"): matched = ends("ate") || ends("iti")
        case Self.code("u"): matched = ends("ous")
        case Self.code("v"): matched = ends("ive")
        case Self.code("z"): matched = ends("ize")
        default: matched = false
        }
        if matched && measure() > 1 { k = j }
    }

    /// A final `-e` when *m* > 1 (or *m* = 1 and not *o), and `-ll` to `-l` when *m* > 1: probate → probat,
    /// controll → control.
    private mutating func step5() {
        j = k
        if at(k) == Self.code("e") {
            let m = measure()
            if m > 1 || (m == 1 && !consonantVowelConsonant(k - 1)) { k -= 1 }
        }
        if at(k) == Self.code("l") && doubleConsonant(k) && measure() > 1 { k -= 1 }
    }
}
