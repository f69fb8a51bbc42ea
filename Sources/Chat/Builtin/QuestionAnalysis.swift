import Foundation
import Retrieval

/// What a question asks for, read the way a colleague would: the kind of answer (a person, a date, an amount, a yes
/// or no…), the quantities it mentions (`25k`, `10 hours`, `the 17th`), and its parts when it asks two things.
struct QuestionAnalysis: Sendable {
    enum Ask: String, Sendable {
        case person, time, amount, count, duration, place, procedure, definition, choice, reason, yesNo, other
    }

    /// One thing asked: its text (with the question's shared topic) and the kind of answer it wants.
    struct Part: Sendable {
        var text: String
        var ask: Ask
        /// What the part asks about: the words from its question word to the end of the thing asked for (`who can
        /// sign a 20k contract`, without `with an event agency`); the answer must speak of them.
        var focus: String
        /// Asks for a specific date (`what date`, `exact date`, `which day`), not only a month.
        var wantsDate: Bool
        /// Asks for a name (`what is their name`, `who is our CFO`).
        var wantsName: Bool
    }

    var text: String
    /// The question with contractions expanded and lower-cased, for matching.
    var normalized: String
    var parts: [Part]
    var quantities: [Quantity]
    /// Asks for a yes or a no (`can I…`, `do I need…`, `is that ok`).
    var yesNo: Bool

    init(_ question: String) {
        text = question
        normalized = Self.expand(question.lowercased())
        quantities = Self.asked(QuantityReader.read(question))
        let first = normalized.split(whereSeparator: { !$0.isLetter }).first.map(String.init) ?? ""
        yesNo =
            Self.auxiliaries.contains(first)
            // `external auditor needs access for 4 months, can we set that up?`
            || normalized.split(whereSeparator: { ",;-".contains($0) }).dropFirst().contains { clause in
                clause.split(whereSeparator: { !$0.isLetter }).first.map { Self.auxiliaries.contains(String($0)) } ?? false
            }
            || normalized.contains("is that ok") || normalized.contains("is it ok") || normalized.contains("is that right")
            || normalized.contains("is that allowed") || normalized.contains("is it allowed") || normalized.contains("within policy")
            || normalized.contains(" allowed?") || normalized.hasSuffix(" ok?") || normalized.hasSuffix(" ok")
        parts = Self.split(normalized).map(Self.part)
        if parts.isEmpty { parts = [Self.part(normalized)] }
    }

    static let auxiliaries: Set<String> = [
        "can", "could", "may", "might", "do", "does", "did", "is", "are", "was", "were", "will", "would", "should", "must", "am", "have", "has",
        "shall",
    ]

    static let contractions: [(String, String)] = [
        ("what's", "what is"), ("whats", "what is"), ("who's", "who is"), ("whos", "who is"), ("where's", "where is"), ("when's", "when is"),
        ("how's", "how is"), ("it's", "it is"), ("that's", "that is"), ("there's", "there is"), ("can't", "cannot"), ("cant", "cannot"),
        ("don't", "do not"), ("dont", "do not"), ("doesn't", "does not"), ("doesnt", "does not"), ("didn't", "did not"), ("didnt", "did not"),
        ("isn't", "is not"), ("isnt", "is not"), ("aren't", "are not"), ("won't", "will not"), ("i'm", "i am"), ("im", "i am"),
        ("i've", "i have"), ("ive", "i have"), ("i'd", "i would"), ("we're", "we are"), ("they're", "they are"), ("haven't", "have not"),
        ("hasn't", "has not"), ("wouldn't", "would not"), ("shouldn't", "should not"), ("i'll", "i will"), ("we'll", "we will"),
    ]
    static let contractionTable = Dictionary(contractions, uniquingKeysWith: { a, _ in a })

    /// The text with contractions written out (`what's` → `what is`), word by word.
    static func expand(_ text: String) -> String {
        let text = text.replacingOccurrences(of: "’", with: "'")
        var output = ""
        var word = ""
        func flush() {
            output += contractionTable[word] ?? word
            word = ""
        }
        for character in text {
            if character.isLetter || character == "'" {
                word.append(character)
            } else {
                flush()
                output.append(character)
            }
        }
        flush()
        return output
    }

    static let questionStarts: Set<String> = [
        "who", "whom", "whose", "what", "when", "where", "which", "why", "how", "can", "could", "may", "do", "does", "did", "is", "are", "will",
        "would", "should", "must", "am", "have", "has", "by", "until", "till",
    ]

    /// The things asked: split at `?` and at `and`/`,` before a new question word (`…, and who approves it?`), each
    /// part prefixed with the topic before the first question word (`amsterdam trip - …`).
    static func split(_ question: String) -> [String] {
        var pieces: [String] = []
        /// Pieces that end with their own `?` ask something even without a question word (`full day allowance?`).
        var questions = Set<Int>()
        let sentences = question.split(separator: "?", omittingEmptySubsequences: true)
        for (number, raw) in sentences.enumerated() {
            let sentence = coordinated(String(raw))
            let words = sentence.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            var current: [String] = []
            var index = 0
            while index < words.count {
                let word = words[index]
                let bare = word.trimmingCharacters(in: .punctuationCharacters)
                let next = index + 1 < words.count ? words[index + 1].trimmingCharacters(in: .punctuationCharacters) : ""
                // `and who…`, `and can I…`, `and also can…`, `, what…`: a second question.
                if bare == "and" || bare == "also", current.count >= 3, questionStarts.contains(next) || (next == "also" && index + 2 < words.count) {
                    pieces.append(current.joined(separator: " "))
                    current = []
                    index += 1
                    continue
                }
                if word.hasSuffix(","), current.count >= 3, questionStarts.contains(next), next != "is", next != "do" {
                    current.append(String(word.dropLast()))
                    pieces.append(current.joined(separator: " "))
                    current = []
                    index += 1
                    continue
                }
                current.append(word)
                index += 1
            }
            if !current.isEmpty { pieces.append(current.joined(separator: " ")) }
            if number + 1 < sentences.count || question.trimmingCharacters(in: .whitespaces).hasSuffix("?") { questions.insert(pieces.count - 1) }
        }
        let kept = pieces.indices.filter { pieces[$0].split(separator: " ").count >= 2 }
        let trimmed = kept.map { pieces[$0].trimmingCharacters(in: .whitespacesAndNewlines.union(.punctuationCharacters)) }
        let isQuestion = kept.map { questions.contains($0) }
        pieces = trimmed
        // A piece that asks nothing (`i am a new budget owner, what…`) is context for the piece after it.
        var asked: [String] = []
        var context: [String] = []
        for (index, piece) in pieces.enumerated() {
            if !asks(piece) && !isQuestion[index] && index + 1 < pieces.count {
                context.append(piece)
                continue
            }
            asked.append((context + [piece]).joined(separator: ", "))
            context = []
        }
        pieces = asked
        guard pieces.count > 1 else { return pieces }
        // The topic: what the first piece says before its question word (`amsterdam trip - what is the hotel cap`).
        var topic = ""
        let firstWords = pieces[0].split(separator: " ").map(String.init)
        if let start = firstWords.firstIndex(where: { questionStarts.contains($0.trimmingCharacters(in: .punctuationCharacters)) }), start > 0 {
            topic = firstWords[..<start].joined(separator: " ")
        }
        // Later pieces often point back (`their name`, `it`, `that`): they carry the first piece's words too.
        return pieces.enumerated().map { index, piece in
            if index == 0 { return piece }
            return (topic.isEmpty ? "" : topic + " ") + piece + " (" + pieces[0] + ")"
        }
    }

    static func part(_ text: String) -> Part {
        let own = text.components(separatedBy: " (").first ?? text
        let joined = " " + own.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).joined(separator: " ") + " "
        return Part(
            text: text, ask: ask(of: own), focus: focus(of: own),
            wantsDate: [" what date ", " exact date ", " which date ", " which day ", " what day "].contains(where: joined.contains),
            wantsName: joined.contains(" name ") || joined.contains(" names ") || asksIdentity(own))
    }

    /// The quantities of a question as values to test rules with: one the question itself bounds strictly (`who
    /// approves it above 100,000 EUR?`) stands for a value just past the bound, so `above 100,000` holds for it.
    static func asked(_ reading: QuantityReader.Reading) -> [Quantity] {
        reading.quantities.map { quantity in
            var quantity = quantity
            for condition in reading.conditions where condition.quantity == quantity {
                let step = max(abs(quantity.value) * 1e-6, 1e-6)
                if let lower = condition.lower, !lower.inclusive, condition.upper == nil { quantity.value = lower.value + step }
                if let upper = condition.upper, !upper.inclusive, condition.lower == nil { quantity.value = upper.value - step }
            }
            return quantity
        }
    }

    /// `who is our external auditor?`, `who's the CFO`: the role is the question, so only a name answers it (`who is
    /// responsible for…` or `who approves…` name a role instead).
    static func asksIdentity(_ text: String) -> Bool {
        let words = text.split(whereSeparator: { !$0.isLetter }).map(String.init)
        guard words.count >= 3, words[0] == "who", ["is", "are"].contains(words[1]) else { return false }
        let rest = words.dropFirst(2).filter { !["our", "the", "my", "your", "a", "an", "currently", "now"].contains($0) }
        return (1...4).contains(rest.count)
            && !rest.contains { prepositions.contains($0) || $0.hasSuffix("ing") || $0.hasSuffix("ed") || $0.hasSuffix("ible") || $0.hasSuffix("able") }
    }

    static let prepositions: Set<String> = [
        "for", "with", "from", "in", "on", "at", "to", "by", "during", "after", "before", "about", "into", "since", "because", "if", "unless",
        "while", "so", "but", "than", "incl", "including", "via", "per", "without", "within", "over", "under", "across",
    ]
    static let skipped: Set<String> = [
        "is", "are", "was", "were", "does", "do", "did", "can", "could", "should", "will", "would", "has", "have", "had", "much", "many", "long",
        "often", "soon", "quickly", "fast", "the", "a", "an", "our", "my", "your", "their", "its", "i", "we", "you", "they", "me", "us", "it",
        "exactly", "actually", "still", "really", "also", "there", "need", "needs", "to", "be", "get", "kind", "of", "type", "sort",
    ]

    /// The words from the question word through the thing asked for: prepositional phrases after it (`with an event
    /// agency`, `for a big conference trip`) are circumstances, not the ask. Without a question word, the whole part.
    static func focus(of text: String) -> String {
        let words = text.split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "-" && $0 != "'" }).map(String.init)
        guard let start = words.firstIndex(where: { ["who", "whom", "whose", "what", "when", "where", "which", "why", "how"].contains($0) }) else {
            return text
        }
        var focus: [String] = []
        var index = start + 1
        // Skip auxiliaries, articles and pronouns right after the question word.
        while index < words.count, skipped.contains(words[index]) { index += 1 }
        while index < words.count {
            let word = words[index]
            if prepositions.contains(word) && focus.count >= 2 { break }
            if word == "and" && focus.count >= 2 { break }
            focus.append(word)
            index += 1
        }
        return focus.joined(separator: " ")
    }

    /// `what is the hotel cap there and the per diem for a full day` → two questions with the same opening:
    /// `what is the hotel cap there`, `what is the per diem for a full day` (joined by `, and ` for ``split(_:)``).
    static func coordinated(_ sentence: String) -> String {
        let words = sentence.split(separator: " ").map(String.init)
        guard words.count >= 6, let and = words.indices.dropFirst(3).first(where: { words[$0] == "and" && $0 + 1 < words.count && words[$0 + 1] == "the" })
        else { return sentence }
        // The opening: `what is`, `what are`, `which is` followed by `the`, after any topic (`amsterdam trip -`).
        guard let wh = words.firstIndex(where: { $0 == "what" || $0 == "which" }), wh < and,
            let the = words[wh...].firstIndex(of: "the"), the < and, the - wh >= 1, the - wh <= 3
        else { return sentence }
        let opening = words[wh..<the].joined(separator: " ")
        // A phrase after the second noun (`for year-end accruals`) usually belongs to both.
        var shared = ""
        if let preposition = words[(and + 2)...].firstIndex(where: { ["for", "of", "in", "on", "at", "during"].contains($0) }) {
            shared = " " + words[preposition...].joined(separator: " ")
        }
        return words[..<and].joined(separator: " ") + shared + ", and " + opening + " " + words[(and + 1)...].joined(separator: " ")
    }

    /// Whether a piece of a question asks something (a question word anywhere, or starting with an auxiliary).
    static func asks(_ piece: String) -> Bool {
        let words = piece.split(whereSeparator: { !$0.isLetter }).map(String.init)
        guard let first = words.first else { return false }
        if auxiliaries.contains(first) { return true }
        if words.contains(where: { ["who", "whom", "whose", "what", "when", "where", "which", "why", "how"].contains($0) }) { return true }
        // `… - is that right`, `… - can i keep it`: an auxiliary before its subject.
        let subjects: Set<String> = ["i", "we", "you", "it", "that", "this", "they", "he", "she", "there"]
        return zip(words, words.dropFirst()).contains { auxiliaries.contains($0) && subjects.contains($1) }
    }

    /// The kind of answer a question (part) wants.
    static func ask(of text: String) -> Ask {
        let words = text.split(whereSeparator: { !$0.isLetter && $0 != "-" }).map(String.init)
        let joined = " " + words.joined(separator: " ") + " "
        func has(_ phrase: String) -> Bool { joined.contains(" " + phrase + " ") }
        let amountWords: Set<String> = ["limit", "rate", "cap", "allowance", "diem", "cost", "price", "threshold", "fee", "amount", "maximum", "budget"]
        /// An amount word heading its phrase (`limit for`, `per diem?`), not modifying the next noun (`cost centre`,
        /// `fixed price projects`).
        func isAmountHead(_ index: Int) -> Bool {
            guard amountWords.contains(words[index]) else { return false }
            guard index + 1 < words.count else { return true }
            return prepositions.contains(words[index + 1]) || skipped.contains(words[index + 1]) || ["and", "or", "there", "here", "now"].contains(words[index + 1])
        }
        /// `what is the limit`, `what's the per diem`: an amount word heading the phrase after `what`/`which`.
        func asksAmountAfter(_ question: String) -> Bool {
            guard let start = words.firstIndex(of: question) else { return false }
            return (start + 1..<min(words.count, start + 5)).contains(where: isAmountHead)
        }
        if has("who") || has("whom") || has("whose") || has("which person") || has("which team") || has("name") { return .person }
        if has("how much") || has("how high") { return .amount }
        if has("how many") { return .count }
        if has("how long") || has("how quickly") || has("how fast") || has("how soon") || has("how often") { return .duration }
        if has("when") || has("what time") || has("what day") || has("which day") || has("what date") || has("by when") || has("deadline")
            || has("cut-off") || has("cutoff") || has("which month") || has("what month")
        {
            return .time
        }
        if has("where") || has("which system") || has("which tool") || has("which account") || has("what account") || has("which form") { return .place }
        if has("why") { return .reason }
        if has("what is a") || has("what is an") || has("what does") && (has("mean") || has("stand for")) || has("meaning") || has("definition") {
            return .definition
        }
        if has("how do") || has("how can") || has("how to") || has("how should") || has("what do i do") || has("what should") || has("what now")
            || has("what happens") || has("what do we do") || has("how does")
        {
            return .procedure
        }
        if asksAmountAfter("what") || asksAmountAfter("which") { return .amount }
        if has("which") || has("what") { return .choice }
        if let first = words.first, auxiliaries.contains(first) { return .yesNo }
        // Keywords only (`VAT rate germany`, `corprate card limit per month`).
        if words.indices.suffix(3).contains(where: isAmountHead) { return .amount }
        return .other
    }

    /// How well a sentence's content fits the kind of answer asked for, from 0 (nothing of the kind) to 1.
    static func fit(_ ask: Ask, text: String, reading: QuantityReader.Reading) -> Double {
        let lower = " " + text.lowercased() + " "
        switch ask {
        case .person:
            if roles.contains(where: { lower.contains(" " + $0) }) || properName(text) { return 1 }
            return 0
        case .amount:
            return reading.quantities.contains { if case .money = $0.dimension { return true } else { return $0.dimension == .percent } } ? 1 : 0
        case .count:
            return reading.quantities.isEmpty && !numberWords.contains(where: { lower.contains(" " + $0 + " ") }) ? 0 : 1
        case .duration:
            return reading.quantities.contains { if case .duration = $0.dimension { return true } else { return false } }
                || timeWords.contains(where: { lower.contains($0) }) ? 1 : 0
        case .time:
            if reading.quantities.contains(where: { [.dayOfMonth, .timeOfDay].contains($0.dimension) || { if case .duration = $0.dimension { true } else { false } }($0) }) {
                return 1
            }
            return timeWords.contains(where: { lower.contains($0) }) ? 1 : 0
        case .place:
            return places.contains(where: { lower.contains($0) }) || properName(text) ? 1 : 0
        default:
            return 0.5
        }
    }

    static let roles = [
        "owner", "controller", "manager", "director", "cfo", "ceo", "treasurer", "treasury", "officer", "accountant", "team", "hr ", "department",
        "head of", "clerk", "approver", "signator", "payroll", "procurement", "legal", "helpdesk", "auditor", "prokurist", "board", "employee",
        "credit control", "accounts payable", "sales operations", "compliance", "it ", "requester", "colleague", "assistant", "specialist", "lead",
    ]
    static let timeWords = [
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march", "april", " may ", "june",
        "july", "august", "september", "october", "november", "december", "working day", "every ", "daily", "weekly", "monthly", "quarterly",
        "annually", "each month", "each year", "year-end", "month-end", "days", "weeks", "months", "hours", "same day", "immediately",
    ]
    static let places = [
        " in odoo", "portal", "repository", "mailbox", "@", "intranet", "office", " in salesforce", "system", "module", "tool", "account ",
        "folder", "sharepoint", "form", "register", " at ",
    ]
    /// The thing a `how many` question counts (`employees` in `how many employees does…`), when it names one.
    static func countedNoun(_ question: String) -> String? {
        let words = question.lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init)
        guard let many = words.firstIndex(of: "many"), many + 1 < words.count else { return nil }
        let noun = words[many + 1]
        return noun.count >= 3 && !auxiliaries.contains(noun) ? noun : nil
    }

    /// Whether a text states a count of the noun: a number or number word at most two words before it (`four
    /// subsidiaries`, `30 calendar days`).
    static func counts(_ noun: String, in text: String) -> Bool {
        let stem = String(noun.prefix(max(3, noun.count - (noun.hasSuffix("ies") ? 3 : noun.hasSuffix("s") ? 1 : 0))))
        let words = text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
        for (index, word) in words.enumerated() where word.hasPrefix(stem) {
            let before = words[max(0, index - 3)..<index]
            if before.contains(where: { $0.first?.isNumber == true || numberWords.contains($0) || $0 == "both" || $0 == "twelve" }) { return true }
        }
        return false
    }

    static let numberWords = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "single", "twice", "once"]

    /// A person's name: two capitalised words in a row (`Markus Braun`, `Pieter de Vries`), not the sentence's first
    /// word, nothing between them, and not a place or a system (`in Odoo Documents`, `the Finance Helpdesk`).
    static func personName(_ text: String) -> Bool {
        let words = text.split(separator: " ").map(String.init)
        guard words.count >= 2 else { return false }
        for index in 0..<(words.count - 1) {
            let first = words[index]
            var second = words[index + 1]
            if second == "de" || second == "van" || second == "von", index + 2 < words.count { second = words[index + 2] }
            guard first.first?.isUppercase == true, second.first?.isUppercase == true, first.count > 1, second.count > 1 else { continue }
            guard first.last?.isLetter == true, !first.allSatisfy({ $0.isUppercase }), !second.allSatisfy({ $0.isUppercase || !$0.isLetter }) else { continue }
            // `Role: Name Surname` or inside a sentence, not right after an article or a preposition.
            let before = index > 0 ? words[index - 1].lowercased() : ""
            if index == 0 && !text.contains(":") { continue }
            if ["the", "in", "of", "to", "from", "at", "a", "an", "with", "via", "through", "and", "or"].contains(before) { continue }
            return true
        }
        return false
    }

    /// Two capitalised words in a row not at the start (a name, a place or a system: `Markus Braun`, `Odoo Documents`).
    static func properName(_ text: String) -> Bool {
        let words = text.split(separator: " ")
        guard words.count > 2 else { return false }
        for index in 1..<(words.count - 1) where words[index].first?.isUppercase == true && words[index + 1].first?.isUppercase == true {
            return true
        }
        return false
    }
}
