import Foundation

/// Word error rate: word-level edit distance (substitutions, insertions, deletions) over the reference's length.
public enum WordErrorRate {
    /// Over the words as written (lower case, punctuation dropped).
    public static func of(_ hypothesis: String, reference: String) -> Double {
        rate(words(hypothesis), reference: words(reference))
    }

    /// Over both texts as ``SpokenText/normalized(_:)`` writes them: "25k", "€25,000" and "twenty five thousand
    /// euros" are the same words, as are "what's" and "what is". This is the rate the benchmark reports: a
    /// transcript that writes a number another way has not misheard it.
    public static func normalized(_ hypothesis: String, reference: String) -> Double {
        rate(SpokenText.normalized(hypothesis), reference: SpokenText.normalized(reference))
    }

    /// Edits turning `said` into `meant`, over `meant`'s length (a reference without words: 0 when nothing was said).
    public static func rate(_ said: [String], reference meant: [String]) -> Double {
        guard !meant.isEmpty else { return said.isEmpty ? 0 : 1 }
        return Double(edits(said, meant)) / Double(meant.count)
    }

    static func edits(_ said: [String], _ meant: [String]) -> Int {
        var previous = Array(0...said.count)
        for (i, word) in meant.enumerated() {
            var current = [i + 1] + [Int](repeating: 0, count: said.count)
            for (j, heard) in said.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (word == heard ? 0 : 1))
            }
            previous = current
        }
        return previous[said.count]
    }

    public static func words(_ text: String) -> [String] {
        text.lowercased().split { !($0.isLetter || $0.isNumber || $0 == "'") }.map(String.init)
    }
}

/// Text as words that compare equal however a number, an amount or a contraction was written: the normalisation
/// both sides of a word error rate go through (in the spirit of OpenAI's English text normaliser for Whisper).
///
/// - Lower case; hyphens, slashes and punctuation separate words; "um", "uh" and "hmm" are dropped.
/// - Contractions are written out ("what's" → "what is", "can't" → "can not", "I've" → "i have"); a possessive
///   "'s" after a noun stays.
/// - Numbers become digits: "twenty five thousand" → "25000", "25k" → "25000", "25,000" → "25000", "fifth" →
///   "5th", "one point five" → "1.5".
/// - Currencies and percentages become words after the number: "€25,000" → "25000 euro", "50%" → "50 percent";
///   plurals of currencies are singular ("euros" → "euro").
public enum SpokenText {
    public static func normalized(_ text: String) -> [String] {
        var text = text.lowercased().replacingOccurrences(of: "\u{2019}", with: "'")
        // Symbols that stand for words, spaced so that they split from their numbers.
        for (symbol, word) in [("€", " euro "), ("$", " dollar "), ("£", " pound "), ("%", " percent "), ("&", " and ")] {
            text = text.replacingOccurrences(of: symbol, with: word)
        }
        var tokens: [String] = []
        var current = ""
        let characters = Array(text)
        for (index, character) in characters.enumerated() {
            let previous = index > 0 ? characters[index - 1] : " "
            let next = index + 1 < characters.count ? characters[index + 1] : " "
            let keep =
                character.isLetter || character.isNumber
                // "can't", "it's"; a comma or point inside a number ("25,000", "1.5").
                || (character == "'" && previous.isLetter && next.isLetter)
                || ((character == "," || character == ".") && previous.isNumber && next.isNumber)
            if keep {
                current.append(character)
            } else if !current.isEmpty {
                tokens.append(current)
                current = ""
            }
        }
        if !current.isEmpty { tokens.append(current) }
        var words: [String] = []
        for token in tokens {
            words += expanded(token)
        }
        words = spelledNumbers(words)
        // The amount's unit after the number: "euro 25000" (from "€25,000") → "25000 euro".
        var ordered: [String] = []
        var index = 0
        while index < words.count {
            if currencies.contains(words[index]), index + 1 < words.count, isNumber(words[index + 1]) {
                ordered += [words[index + 1], words[index]]
                index += 2
            } else {
                ordered.append(words[index])
                index += 1
            }
        }
        return ordered
    }

    static let currencies: Set = ["euro", "dollar", "pound"]
    static let fillers: Set = ["um", "uh", "hmm", "erm", "mm"]
    static let plurals = ["euros": "euro", "dollars": "dollar", "pounds": "pound", "percents": "percent", "okay": "ok"]

    static func isNumber(_ word: String) -> Bool {
        word.first?.isNumber == true && word.allSatisfy { $0.isNumber || $0 == "." }
    }

    /// One token as words: a contraction written out, digits without thousands separators, "25k" as 25000.
    static func expanded(_ token: String) -> [String] {
        if fillers.contains(token) { return [] }
        if let singular = plurals[token] { return [singular] }
        if let words = contractions[token] { return words }
        if token.first?.isNumber == true {
            var digits = token.replacingOccurrences(of: ",", with: "")
            if digits.hasSuffix("k"), let value = Double(digits.dropLast()) { return [format(value * 1000)] }
            if digits.hasSuffix("s"), Double(digits.dropLast()) != nil { digits.removeLast() }  // "the 1990s"
            return [digits]
        }
        if let apostrophe = token.firstIndex(of: "'") {
            let stem = String(token[..<apostrophe])
            switch token[apostrophe...] {
            case "'re": return [stem, "are"]
            case "'ve": return [stem, "have"]
            case "'ll": return [stem, "will"]
            case "'d": return [stem, "would"]
            case "'m": return [stem, "am"]
            case "n't": return [String(stem.dropLast()), "not"]
            default: break
            }
            if token.hasSuffix("n't") { return [String(token.dropLast(3)), "not"] }
        }
        return [token]
    }

    /// Contractions whose stem changes, and "'s" after the words where it means "is".
    static let contractions: [String: [String]] = {
        var table: [String: [String]] = [
            "can't": ["can", "not"], "cannot": ["can", "not"], "won't": ["will", "not"], "shan't": ["shall", "not"], "ain't": ["is", "not"],
            "let's": ["let", "us"], "i'm": ["i", "am"],
        ]
        for word in ["what", "it", "that", "there", "here", "who", "where", "when", "how", "he", "she", "this", "which", "why"] {
            table[word + "'s"] = [word, "is"]
        }
        return table
    }()

    static let units: [String: Int] = [
        "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
        "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    ]
    static let tens: [String: Int] = ["twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90]
    static let scales: [String: Int] = ["hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000]
    static let ordinals: [String: Int] = [
        "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
        "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fifteenth": 15, "twentieth": 20, "thirtieth": 30,
    ]

    /// Runs of number words as one number in digits ("twenty five thousand" → "25000", "one hundred and twenty" →
    /// "120", "fifth" → "5th", "two point five" → "2.5"); digits followed by a scale word too ("25 thousand").
    static func spelledNumbers(_ words: [String]) -> [String] {
        var output: [String] = []
        var index = 0
        while index < words.count {
            var total = 0
            var group = 0
            var used = 0
            var sawNumber = false
            var position = index
            var ordinalSuffix: String?
            while position < words.count {
                let word = words[position]
                if let value = units[word] ?? tens[word] {
                    group += value
                } else if let value = Int(word), !sawNumber {
                    group += value
                } else if let scale = scales[word], sawNumber {
                    if scale == 100 {
                        group *= 100
                    } else {
                        total += group * scale
                        group = 0
                    }
                } else if word == "and", sawNumber, position + 1 < words.count, units[words[position + 1]] != nil || tens[words[position + 1]] != nil {
                    // "one hundred and twenty"
                } else if let value = ordinals[word], !(word == "second" && !sawNumber) {
                    group += value
                    ordinalSuffix = value % 10 == 1 && value != 11 ? "st" : value % 10 == 2 && value != 12 ? "nd" : value % 10 == 3 && value != 13 ? "rd" : "th"
                    sawNumber = true
                    position += 1
                    used = position - index
                    break
                } else {
                    break
                }
                sawNumber = true
                position += 1
                used = position - index
            }
            guard used > 0 else {
                output.append(words[index])
                index += 1
                continue
            }
            var number = String(total + group)
            // "two point five"
            if ordinalSuffix == nil, position + 1 < words.count, words[position] == "point", let decimal = units[words[position + 1]] {
                number += ".\(decimal)"
                used += 2
            }
            output.append(number + (ordinalSuffix ?? ""))
            index += used
        }
        return output
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
