import Foundation

/// Whether an answer states a key fact, however it writes numbers and currencies: the answer and the fact's
/// surface form are both reduced to lower-case words and canonical numbers (`10,000`, `10.000`, `10 000`, `10k` and
/// `ten thousand` are all `10000`; `€`, `EUR`, `euro(s)` are all `eur` and stand after their amount; `%`, `per cent`
/// are `percent`), then the form must occur in the answer starting at a word boundary, and ending at one when it
/// ends in a number or a word of at most three letters (so `HR` is not found in "three", nor `10` in "100").
public enum FactMatcher {
    /// The words and canonical numbers of `text`, separated by single spaces.
    public static func normalized(_ text: String) -> String {
        tokens(text).joined(separator: " ")
    }

    /// Whether `answer` holds `form` (see the type's description).
    public static func contains(_ answer: String, _ form: String) -> Bool {
        contains(normalizedAnswer: " " + normalized(answer) + " ", form: form)
    }

    /// ``contains(_:_:)`` for an answer normalised once (`" " + normalized(answer) + " "`).
    static func contains(normalizedAnswer answer: String, form: String) -> Bool {
        let formTokens = tokens(form)
        guard let last = formTokens.last else { return false }
        let needsEnd = last.count <= 3 || last.first!.isNumber
        let needle = " " + formTokens.joined(separator: " ") + (needsEnd ? " " : "")
        return answer.contains(needle)
    }

    static let currencies: [String: String] = [
        "€": "eur", "eur": "eur", "euro": "eur", "euros": "eur", "$": "usd", "usd": "usd", "dollar": "usd", "dollars": "usd", "£": "gbp",
        "gbp": "gbp", "pound": "gbp", "pounds": "gbp", "chf": "chf", "pln": "pln", "zloty": "pln", "złoty": "pln",
    ]

    static let numberWords: [String: Double] = [
        "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
        "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
        "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
        "hundred": 100,
    ]

    static let multipliers: [String: Double] = [
        "k": 1_000, "thousand": 1_000, "m": 1_000_000, "mn": 1_000_000, "million": 1_000_000, "bn": 1_000_000_000, "billion": 1_000_000_000,
    ]

    /// Lower-case words, canonical numbers, `percent` and currency codes, in order.
    static func tokens(_ text: String) -> [String] {
        var raw: [(text: String, number: Double?)] = []
        let characters = Array(text.lowercased())
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character.isNumber, character.isASCII {
                let (value, end) = number(characters, from: index)
                // A number with letters glued on: `10k`, `3m` are amounts; `15th`, `wd5`, `p2p` stay words.
                var suffixEnd = end
                while suffixEnd < characters.count, characters[suffixEnd].isLetter { suffixEnd += 1 }
                let suffix = String(characters[end..<suffixEnd])
                if suffix.isEmpty {
                    raw.append((format(value), value))
                } else if let multiplier = multipliers[suffix] {
                    raw.append((format(value * multiplier), value * multiplier))
                } else {
                    raw.append((String(characters[index..<suffixEnd]), nil))
                }
                index = suffixEnd
            } else if character.isLetter || character.isNumber {
                var end = index
                while end < characters.count, characters[end].isLetter || characters[end].isNumber || characters[end] == "'" || characters[end] == "’" {
                    end += 1
                }
                var word = String(characters[index..<end]).replacingOccurrences(of: "’", with: "'")
                // `CFO's` states `CFO`; a quote mark at a word's end is not part of it.
                if word.hasSuffix("'s") { word.removeLast(2) }
                while word.hasSuffix("'") { word.removeLast() }
                raw.append((word, numberWords[word]))
                index = end
            } else if character == "%" {
                raw.append(("percent", nil))
                index += 1
            } else if let code = currencies[String(character)] {
                raw.append((code, nil))
                index += 1
            } else {
                index += 1
            }
        }
        // `per cent` is `percent`; `2 million`, `ten thousand` multiply; a currency before its amount moves after it.
        var output: [(text: String, number: Double?)] = []
        for token in raw {
            if token.text == "cent", output.last?.text == "per" {
                output[output.count - 1] = ("percent", nil)
            } else if let multiplier = multipliers[token.text], multiplier >= 1_000, let previous = output.last?.number {
                output[output.count - 1] = (format(previous * multiplier), previous * multiplier)
            } else if let code = currencies[token.text] {
                output.append((code, nil))
            } else if let value = token.number {
                output.append((format(value), value))
            } else {
                output.append(token)
            }
        }
        var index2 = 0
        while index2 + 1 < output.count {
            // `€ 25` → `25 eur`; but in `10,000 EUR: one quote` the currency already follows its amount.
            if currencies.values.contains(output[index2].text), output[index2 + 1].number != nil, index2 == 0 || output[index2 - 1].number == nil {
                output.swapAt(index2, index2 + 1)
                index2 += 2
            } else {
                index2 += 1
            }
        }
        return output.map(\.text)
    }

    /// The number starting at `start`: `10,000` / `10.000` / `10 000` (groups of three after a separator, the same
    /// separator each time) are thousands, then `.5` or `,50` a fraction; `2,5` and `0.300` are fractions.
    static func number(_ characters: [Character], from start: Int) -> (Double, Int) {
        func digits(from index: Int) -> Int {
            var end = index
            while end < characters.count, characters[end].isASCII, characters[end].isNumber { end += 1 }
            return end
        }
        var end = digits(from: start)
        var integer = String(characters[start..<end])
        var fraction = ""
        // Thousands groups.
        if integer.count <= 3, integer.first != "0" {
            var separator: Character?
            var position = end
            while position < characters.count, [",", ".", " ", "\u{00A0}", "\u{202F}"].contains(characters[position]), separator == nil || characters[position] == separator {
                let groupEnd = digits(from: position + 1)
                guard groupEnd - (position + 1) == 3 else { break }
                separator = characters[position]
                integer += String(characters[(position + 1)..<groupEnd])
                position = groupEnd
            }
            end = position
            // A decimal part with the other separator.
            if let separator, end + 1 < characters.count, [",", "."].contains(characters[end]), characters[end] != separator,
                characters[end + 1].isASCII, characters[end + 1].isNumber
            {
                let fractionEnd = digits(from: end + 1)
                fraction = String(characters[(end + 1)..<fractionEnd])
                end = fractionEnd
            }
            if separator != nil { return (Double(integer + "." + (fraction.isEmpty ? "0" : fraction)) ?? 0, end) }
        }
        // A plain decimal: `25.50`, `2,5`.
        if end + 1 < characters.count, [",", "."].contains(characters[end]), characters[end + 1].isASCII, characters[end + 1].isNumber {
            let fractionEnd = digits(from: end + 1)
            fraction = String(characters[(end + 1)..<fractionEnd])
            end = fractionEnd
        }
        return (Double(integer + "." + (fraction.isEmpty ? "0" : fraction)) ?? 0, end)
    }

    /// `10000`, `25.5`, `0.3`: no thousands separators, no trailing zeros.
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        var text = String(format: "%.6f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
