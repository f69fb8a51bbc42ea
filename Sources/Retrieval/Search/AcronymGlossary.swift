import Foundation

/// Acronyms the knowledge bank defines, and what they stand for, so that a question that only uses the acronym
/// (`GRNI`) also finds the passages that spell it out (`goods received not invoiced`), and the other way round.
///
/// Definitions are read from the passages as knowledge managers write them: glossary lines (`**GRNI**: goods
/// received not invoiced, …`, `- PO: purchase order`) and parentheses (`purchase order (PO)`, `GRNI (goods received
/// not invoiced)`). A definition counts only when the acronym's letters are the initials of the expansion's words
/// (small words like `of` and `and` may be skipped), so `**Note**: …` or `(see below)` define nothing.
struct AcronymGlossary: Sendable {
    /// `acronym (lower case) → passage key → expansion`.
    private var definitions: [String: [UInt64: String]] = [:]
    /// The acronyms each passage defines, to forget them when it goes.
    private var acronymsOfKey: [UInt64: [String]] = [:]

    var isEmpty: Bool { definitions.isEmpty }

    /// Remembers the definitions in a passage's text (replacing the passage's earlier ones).
    mutating func add(key: UInt64, definitions found: [(acronym: String, expansion: String)]) {
        remove(key: key)
        guard !found.isEmpty else { return }
        for (acronym, expansion) in found { definitions[acronym.lowercased(), default: [:]][key] = expansion }
        acronymsOfKey[key] = found.map { $0.acronym.lowercased() }
    }

    mutating func remove(key: UInt64) {
        guard let acronyms = acronymsOfKey.removeValue(forKey: key) else { return }
        for acronym in acronyms {
            definitions[acronym]?[key] = nil
            if definitions[acronym]?.isEmpty == true { definitions[acronym] = nil }
        }
    }

    /// The expansions of the acronyms in `text`, each defined by a passage `visible` accepts, most often defined first.
    /// A lower-case word counts only when it has three letters or more and is no English word the glossary could
    /// confuse (`it`, `ap`, `ar` must be written in capitals).
    func expansions(in text: String, visible: (UInt64) -> Bool) -> [(acronym: String, expansion: String)] {
        var result: [(acronym: String, expansion: String)] = []
        var seen = Set<String>()
        for word in text.split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "&" }) {
            let lower = word.lowercased()
            guard !seen.contains(lower), let defined = definitions[lower] else { continue }
            let capitals = word.allSatisfy { !$0.isLetter || $0.isUppercase }
            guard capitals || (lower.count >= 3 && !Self.commonWords.contains(lower)) else { continue }
            seen.insert(lower)
            var counts: [String: Int] = [:]
            for (key, expansion) in defined where visible(key) { counts[expansion.lowercased(), default: 0] += 1 }
            if let best = counts.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }) {
                result.append((String(word), best.key))
            }
        }
        return result
    }

    static let commonWords: Set<String> = [
        "the", "and", "for", "are", "you", "not", "can", "has", "was", "its", "our", "all", "any", "may", "per", "who", "how", "why", "new", "one",
        "two", "day", "way", "use", "see", "set", "pay", "tax", "due", "end", "top", "low", "key", "app", "web", "art", "age", "aim", "act", "add",
    ]

    /// The definitions a text states.
    static func definitions(in text: String) -> [(acronym: String, expansion: String)] {
        var found: [(acronym: String, expansion: String)] = []
        for line in text.split(separator: "\n") {
            var body = line.trimmingCharacters(in: .whitespaces)
            for marker in ["- ", "* ", "+ ", "• "] where body.hasPrefix(marker) { body = String(body.dropFirst(marker.count)) }
            body = body.replacingOccurrences(of: "**", with: "").replacingOccurrences(of: "__", with: "")
            // `GRNI: goods received not invoiced, …` and `Purchase order (PO): the approved order …`.
            if let colon = body.firstIndex(of: ":"), body.distance(from: body.startIndex, to: colon) <= 60 {
                let term = body[..<colon].trimmingCharacters(in: .whitespaces)
                let rest = body[body.index(after: colon)...]
                let definition = String(rest.prefix { ![",", ";", ".", "("].contains($0) }).trimmingCharacters(in: .whitespaces)
                if isAcronym(term), matches(term, definition) { found.append((term, definition)) }
            }
            found += parenthesised(body)
        }
        return found
    }

    /// `purchase order (PO)` and `GRNI (goods received not invoiced)`.
    static func parenthesised(_ text: String) -> [(acronym: String, expansion: String)] {
        var found: [(acronym: String, expansion: String)] = []
        var rest = text[...]
        while let open = rest.firstIndex(of: "("), let close = rest[open...].firstIndex(of: ")") {
            let inside = rest[rest.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
            let before = rest[..<open].split(whereSeparator: { $0 == " " || $0 == "\t" }).map { String($0).trimmingCharacters(in: .punctuationCharacters) }
            if isAcronym(inside) {
                // The words before the parenthesis whose initials spell it, right before it or before one more
                // word (`the "prepared by client" list (PBC)`).
                let letters = inside.filter(\.isLetter).count
                search: for skipped in 0...min(1, max(0, before.count - 1)) {
                    let words = before.dropLast(skipped)
                    for count in stride(from: min(words.count, letters + 2), through: max(1, letters - 1), by: -1) {
                        let candidate = words.suffix(count).joined(separator: " ")
                        if matches(inside, candidate) {
                            found.append((inside, candidate))
                            break search
                        }
                    }
                }
            } else if let last = before.last, isAcronym(last), matches(last, inside) {
                found.append((last, inside))
            }
            rest = rest[rest.index(after: close)...]
        }
        return found
    }

    /// Two to eight capitals (digits and `&` allowed after the first letter): `PO`, `GRNI`, `P&L`, `B2B`.
    static func isAcronym(_ text: String) -> Bool {
        guard (2...8).contains(text.count), let first = text.first, first.isUppercase, first.isLetter else { return false }
        return text.allSatisfy { ($0.isUppercase && $0.isLetter) || $0.isNumber || $0 == "&" } && text.filter(\.isLetter).count >= 2
    }

    static let smallWords: Set<String> = ["of", "and", "the", "for", "to", "in", "on", "a", "an", "&", "by", "with"]

    /// Whether the acronym's letters are the initials of the expansion's words, in order; small words may be skipped
    /// and a word may give two letters (`PBC` from `prepared by client`, `VAT` from `value added tax`).
    static func matches(_ acronym: String, _ expansion: String) -> Bool {
        let letters = Array(acronym.lowercased().filter(\.isLetter))
        let words = expansion.lowercased().split(whereSeparator: { $0 == " " || $0 == "-" || $0 == "/" }).map(String.init).filter { !$0.isEmpty }
        guard !words.isEmpty, words.count <= letters.count + 3, words.first?.first == letters.first else { return false }
        func match(_ letter: Int, _ word: Int) -> Bool {
            if letter == letters.count { return words[word...].allSatisfy { smallWords.contains($0) } }
            guard word < words.count else { return false }
            let current = words[word]
            if current.first == letters[letter] {
                if match(letter + 1, word + 1) { return true }
                // Two letters from one word (`PBC`'s B from `by` is a small word; `ID` from `identification`).
                if letter + 1 < letters.count, current.dropFirst().contains(letters[letter + 1]), match(letter + 2, word + 1) { return true }
            }
            return smallWords.contains(current) && match(letter, word + 1)
        }
        return match(0, 0)
    }
}
