import Foundation

/// The knowledge bank's names, as the text Whisper reads before each recording (its initial prompt). Whisper spells
/// what it hears the way its prompt spells it, so names it never heard in training ("TripPoint", "Odoo",
/// "PeopleHub") come out as the bank writes them instead of as the nearest English words.
///
/// A name is a word of at least two documents, without digits, that the bank writes with a capital inside it
/// ("TripPoint", "ERPNext") or capitalises after the start of a sentence and never writes in lower case ("Odoo",
/// "Northwind"). Names Whisper's vocabulary holds as one token ("Germany", "Monday") are left out: it spells them
/// right unprompted. So are acronyms: measured (docs/voice.md), a prompt of acronyms makes Whisper hear short
/// questions as lists of letters ("expense deadline" → "ECB, SPR, DINE"). Names are ranked by how many documents
/// use them, and as many are kept as fit the token budget.
public enum SpeechPrompt {
    /// Tokens of the prompt at most: Whisper reads up to 224, but a long list makes the decoder write lists ("A,
    /// WD1, WDFL cap in London"). Measured on the development half of `Benchmarks/voice/spoken.txt` (docs/voice.md).
    public static let tokenBudget = 48

    /// The prompt for `documents`, within `budget` tokens as `count` measures them (the recogniser's tokenizer).
    public static func build(documents: [(title: String, body: String)], budget: Int = tokenBudget, count: (String) -> Int) -> String {
        // Words Whisper's vocabulary holds whole ("Monday", "Germany") it already spells right: only names it must
        // piece together from fragments ("TripPoint", "Odoo", "GRNI") are worth their tokens.
        let ranked = names(in: documents).filter { count(" " + $0) >= 2 }
        guard !ranked.isEmpty else { return "" }
        // Kept in rank order until the budget is spent; a binary search, since counting tokens is cheap but not free.
        var low = 0
        var high = ranked.count
        while low < high {
            let middle = (low + high + 1) / 2
            if count(text(ranked.prefix(middle))) <= budget { low = middle } else { high = middle - 1 }
        }
        return text(ranked.prefix(low))
    }

    static let lead = "Questions about "

    static func text(_ names: ArraySlice<String>) -> String {
        names.isEmpty ? "" : lead + names.joined(separator: ", ") + "."
    }

    /// How many names a prompt of ``build(documents:budget:count:)`` holds.
    public static func nameCount(_ prompt: String) -> Int {
        prompt.hasPrefix(lead) ? prompt.dropFirst(lead.count).split(separator: ",").count : 0
    }

    /// The bank's names, most widely used first (ties: alphabetical).
    public static func names(in documents: [(title: String, body: String)]) -> [String] {
        var documentFrequency: [String: Int] = [:]
        var lowercaseSeen = Set<String>()
        var midSentence = Set<String>()
        for document in documents {
            var seen = Set<String>()
            // Each line starts a sentence (titles, headings, list items, table cells), as does each word after . ! ? : |
            for line in (document.title + "\n" + document.body).split(whereSeparator: \.isNewline) {
                var sentenceStart = true
                for token in line.split(whereSeparator: { $0.isWhitespace || $0 == "|" }) {
                    let word = token.trimmingCharacters(in: CharacterSet.alphanumerics.inverted)
                    guard !word.isEmpty else { continue }
                    let startsSentence = sentenceStart
                    sentenceStart = token.last.map { ".!?:".contains($0) } ?? false
                    guard word.count >= 2, word.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) }),
                        let first = word.first, first.isLetter
                    else { continue }
                    if first.isLowercase {
                        lowercaseSeen.insert(word.lowercased())
                        continue
                    }
                    if !startsSentence { midSentence.insert(word) }
                    seen.insert(word)
                }
            }
            for word in seen { documentFrequency[word, default: 0] += 1 }
        }
        // A name of one document only is as likely a person or a one-off code ("WD5", "Fischer") as a name people say.
        let names = documentFrequency.keys.filter { word in
            documentFrequency[word]! >= 2 && !word.contains(where: \.isNumber)
        }.filter { word in
            !isAcronym(word) && (hasInnerCapital(word) || (midSentence.contains(word) && !lowercaseSeen.contains(word.lowercased()) && word.count >= 3))
        }
        return names.sorted { (documentFrequency[$0]!, $1) > (documentFrequency[$1]!, $0) }
    }

    /// Two to six capitals, digits allowed after the first ("GRNI", "VAT", "B2B"); a lone "I" or "A" is not one.
    static func isAcronym(_ word: String) -> Bool {
        (2...6).contains(word.count) && word.first!.isUppercase && word.allSatisfy { $0.isUppercase || $0.isNumber }
    }

    /// A capital after a lower-case letter: "TripPoint", "ERPNext", "iPhone".
    static func hasInnerCapital(_ word: String) -> Bool {
        var previousLower = false
        for character in word {
            if character.isUppercase && previousLower { return true }
            previousLower = character.isLowercase
        }
        return false
    }
}
