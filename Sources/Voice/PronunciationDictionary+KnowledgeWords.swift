extension PronunciationDictionary {
    /// How a missing word got its pronunciation.
    public enum Source: String, Sendable {
        case spelling, plural, compound, espeak
    }

    /// Pronunciations added for one word of the knowledge bank.
    public struct Addition: Sendable, Equatable {
        public var pronunciations: [String]
        /// nil for a word the dictionary had, which only gained its spelled-out form.
        public var source: Source?
        public var spelledOut = false
    }

    /// eSpeak NG's phonemes (`espeak-ng -x --sep=_` notation) for each text, nil where there are none.
    public typealias Phonemizer = @Sendable ([String]) -> [String?]

    public static let voiceless: Set<String> = ["P", "T", "K", "F", "TH"]
    public static let sibilants: Set<String> = ["S", "Z", "SH", "ZH", "CH", "JH"]
    /// British spellings and their American forms, which CMUdict has.
    public static let americanSpellings = [
        ("isation", "ization"), ("ise", "ize"), ("ised", "ized"), ("ises", "izes"), ("ising", "izing"), ("our", "or"), ("tre", "ter"),
        ("tres", "ters"), ("lled", "led"), ("lling", "ling"), ("ogue", "og"), ("yse", "yze"), ("ence", "ense"),
    ]
    /// The letters' names, for acronyms spoken letter by letter.
    public static let letterNames: [Character: String] = [
        "a": "EY", "b": "B IY", "c": "S IY", "d": "D IY", "e": "IY", "f": "EH F", "g": "JH IY", "h": "EY CH", "i": "AY", "j": "JH EY", "k": "K EY",
        "l": "EH L", "m": "EH M", "n": "EH N", "o": "OW", "p": "P IY", "q": "K Y UW", "r": "AA R", "s": "EH S", "t": "T IY", "u": "Y UW", "v": "V IY",
        "w": "D AH B AH L Y UW", "x": "EH K S", "y": "W AY", "z": "Z IY",
    ]

    /// Pronunciations for the words of `documents` that the dictionary lacks, by the first rule that applies:
    /// 1. a British spelling whose American form the dictionary has ("capitalisation");
    /// 2. a plural or possessive of a word it has (+ IH Z after sibilants, + S after voiceless sounds, else + Z);
    /// 3. two words it has of three letters or more ("helpdesk"), the pronunciation closest to eSpeak NG's, if close;
    /// 4. eSpeak NG's phonemes of the word as most often written ("Odoo", "TripPoint"), mapped to ARPAbet.
    /// Acronyms (written in 2 to 4 capitals) also get their letters' names as an alternate pronunciation.
    /// - Parameters:
    ///   - documents: titles and bodies of the knowledge bank.
    ///   - phonemizer: eSpeak NG; without it, rules 3 and 4 are skipped.
    ///   - only: the (lower-case) words wanted; nil for all of them.
    /// - Complexity: O(words of the documents) plus one eSpeak NG call per word the rules leave.
    public func additions(for documents: [(title: String, body: String)], phonemizer: Phonemizer?, only: Set<String>? = nil) -> [String: Addition] {
        // Each word's spellings as written, counted in the order first seen.
        var spellings: [String: QuestionCorpus.PhraseCounts] = [:]
        for (title, body) in documents {
            for written in LanguageModelText.words(title + "\n" + body) {
                let word = written.lowercased()
                if let only, !only.contains(word) { continue }
                spellings[word, default: .init()].add(written)
            }
        }
        func usual(_ word: String) -> String { spellings[word]?.mostCommon(minimum: 0, limit: 1).first ?? word }

        var additions: [String: Addition] = [:]
        var remaining: [String] = []
        for word in spellings.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) where !contains(word) {
            if let variant = Self.americanVariants(word).first(where: contains) {
                additions[word] = Addition(pronunciations: self[variant]!, source: .spelling)
                continue
            }
            if let plural = pluralPronunciations(word) {
                additions[word] = Addition(pronunciations: plural, source: .plural)
                continue
            }
            if let phonemizer, let compound = compoundPronunciation(word, written: usual(word), phonemizer: phonemizer) {
                additions[word] = Addition(pronunciations: [compound], source: .compound)
                continue
            }
            remaining.append(word)
        }
        if let phonemizer, !remaining.isEmpty {
            for (word, phonemes) in zip(remaining, phonemizer(remaining.map(usual))) {
                guard let phonemes, let phones = ESpeakPhonemes.arpabet(phonemes), !phones.isEmpty else { continue }
                additions[word] = Addition(pronunciations: [phones.joined(separator: " ")], source: .espeak)
            }
        }
        for word in spellings.keys {
            let written = usual(word)
            guard (2...4).contains(written.count), written.allSatisfy({ $0.isASCII && $0.isUppercase }), word.allSatisfy({ Self.letterNames[$0] != nil })
            else { continue }
            let spelled = word.map { Self.letterNames[$0]! }.joined(separator: " ")
            var addition = additions[word] ?? Addition(pronunciations: self[word] ?? [], source: nil)
            guard !addition.pronunciations.contains(spelled) else { continue }
            addition.pronunciations.append(spelled)
            addition.spelledOut = true
            additions[word] = addition
        }
        return additions
    }

    /// The word with each British ending replaced by its American form, in the order of ``americanSpellings``.
    public static func americanVariants(_ word: String) -> [String] {
        americanSpellings.compactMap { british, american in word.contains(british) ? word.replacing(british, with: american) : nil }
    }

    /// The pronunciations of a plural or possessive whose singular the dictionary has.
    public func pluralPronunciations(_ word: String) -> [String]? {
        let base: String
        if word.hasSuffix("'s") {
            base = String(word.dropLast(2))
        } else if word.hasSuffix("s") {
            base = String(word.dropLast())
        } else {
            return nil
        }
        guard !base.isEmpty, let known = ([base] + Self.americanVariants(base)).first(where: { !$0.isEmpty && contains($0) }) else { return nil }
        return self[known]!.map { phones in
            let last = phones.split(separator: " ").last.map(String.init) ?? ""
            return phones + (Self.sibilants.contains(last) ? " IH Z" : Self.voiceless.contains(last) ? " S" : " Z")
        }
    }

    /// Two known words of at least three letters each, pronounced as eSpeak NG would say the whole within a quarter of
    /// its phones (at least one): the closest of their pronunciations' combinations.
    public func compoundPronunciation(_ word: String, written: String, phonemizer: Phonemizer) -> String? {
        let letters = Array(word.unicodeScalars)
        guard letters.count >= 6 else { return nil }
        var splits: [(String, String)] = []
        for cut in 3..<(letters.count - 2) {
            let head = String(String.UnicodeScalarView(letters[..<cut]))
            let tail = String(String.UnicodeScalarView(letters[cut...]))
            if contains(head) && contains(tail) { splits.append((head, tail)) }
        }
        guard !splits.isEmpty, let phonemes = phonemizer([written]).first ?? nil, let reference = ESpeakPhonemes.arpabet(phonemes) else { return nil }
        var best: (phones: [String], distance: Int)?
        for (head, tail) in splits {
            for first in self[head]! {
                for second in self[tail]! {
                    let phones = (first + " " + second).split(separator: " ").map(String.init)
                    let distance = Self.editDistance(phones, reference)
                    if best == nil || distance < best!.distance { best = (phones, distance) }
                }
            }
        }
        guard let best, best.distance <= max(1, reference.count / 4) else { return nil }
        return best.phones.joined(separator: " ")
    }

    /// Insertions, deletions and substitutions that turn one phone sequence into the other.
    public static func editDistance(_ a: [String], _ b: [String]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + [Int](repeating: 0, count: b.count)
            for (j, y) in b.enumerated() { current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)) }
            previous = current
        }
        return previous[b.count]
    }
}
