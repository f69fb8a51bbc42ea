import Foundation

/// An amount, a percentage, a duration, a distance, a count, a day of the month or a time of day, as a question or
/// a policy writes it (`25k`, `€25,000`, `25.000 EUR`, `two weeks`, `the 17th`, `2pm`, `90 eur a head`), in one
/// comparable unit per dimension.
struct Quantity: Sendable, Equatable {
    enum Dimension: Sendable, Equatable {
        /// Money, in the currency named (nil when none is: `25k`, `1,300 each`).
        case money(String?)
        case percent
        /// In days (hours are fractions of a day); `working` when counted in working days.
        case duration(working: Bool)
        /// In kilometres.
        case distance
        /// A number of things (`3 suppliers`, `4 people`): the thing, singular.
        case count(String)
        /// `the 15th`, `by the 10th of the month`.
        case dayOfMonth
        /// Minutes after midnight.
        case timeOfDay
        /// A bare number (`cost centre 5230`).
        case plain
    }

    var value: Double
    var dimension: Dimension
    /// `per person`, `a night`, `per kilometre`, `each`: what the amount is counted per (singular), if anything.
    var per: String?

    /// Whether two quantities measure the same thing and can be compared.
    func comparable(with other: Quantity) -> Bool {
        guard per == other.per || (per == nil && other.per == "item") || (per == "item" && other.per == nil) else { return false }
        switch (dimension, other.dimension) {
        case (.money(let a), .money(let b)): return a == nil || b == nil || a == b
        case (.money(nil), .plain), (.plain, .money(nil)): return true
        case (.plain, .plain), (.percent, .percent), (.distance, .distance), (.dayOfMonth, .dayOfMonth), (.timeOfDay, .timeOfDay): return true
        case (.duration, .duration): return true
        case (.count(let a), .count(let b)): return a == b
        default: return false
        }
    }
}

/// A condition a sentence puts on a quantity: `above 10,000 EUR`, `up to 3 months`, `between 5,000 and 10,000`,
/// `within 30 days`, `by the 15th`, `more than 8 hours`, `the limit is 100 EUR per person`.
struct Condition: Sendable, Equatable {
    var quantity: Quantity
    /// The bounds: nil where open. `inclusive` tells whether the bound itself satisfies the condition.
    var lower: (value: Double, inclusive: Bool)?
    var upper: (value: Double, inclusive: Bool)?

    static func == (a: Condition, b: Condition) -> Bool {
        a.quantity == b.quantity && a.lower?.value == b.lower?.value && a.lower?.inclusive == b.lower?.inclusive && a.upper?.value == b.upper?.value
            && a.upper?.inclusive == b.upper?.inclusive
    }

    /// Whether `value` (of a comparable quantity) meets the condition.
    func holds(for value: Double) -> Bool {
        if let lower, lower.inclusive ? value < lower.value : value <= lower.value { return false }
        if let upper, upper.inclusive ? value > upper.value : value >= upper.value { return false }
        return true
    }
}

/// Finds quantities and the conditions on them in English text.
enum QuantityReader {
    struct Token: Sendable {
        var text: String
        var number: Double?
        /// The number was written with a `k`/`m` suffix or `thousand`/`million` (an amount of money, in finance).
        var scaled = false
    }

    /// What a sentence says about quantities: every quantity, and the conditions among them.
    struct Reading: Sendable {
        var quantities: [Quantity] = []
        var conditions: [Condition] = []
    }

    static let currencyWords: [String: String] = [
        "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD", "£": "GBP",
        "gbp": "GBP", "pound": "GBP", "pounds": "GBP", "chf": "CHF", "pln": "PLN", "zloty": "PLN", "złoty": "PLN", "sek": "SEK", "dkk": "DKK",
    ]
    static let durationDays: [String: Double] = [
        "minute": 1.0 / 1440, "minutes": 1.0 / 1440, "min": 1.0 / 1440, "mins": 1.0 / 1440, "hour": 1.0 / 24, "hours": 1.0 / 24, "hr": 1.0 / 24,
        "hrs": 1.0 / 24, "h": 1.0 / 24, "day": 1, "days": 1, "week": 7, "weeks": 7, "fortnight": 14, "month": 30, "months": 30, "year": 365,
        "years": 365, "yr": 365, "yrs": 365, "quarter": 91, "quarters": 91,
    ]
    static let distanceKilometres: [String: Double] = ["km": 1, "kms": 1, "kilometre": 1, "kilometres": 1, "kilometer": 1, "kilometers": 1, "mile": 1.609, "miles": 1.609]
    static let numberWords: [String: Double] = [
        "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
        "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90, "hundred": 100,
        "single": 1, "couple": 2, "both": 2,
    ]
    static let ordinalWords: [String: Double] = [
        "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
    ]
    /// Things counted per: the singular a `per …` names.
    static let perUnits: [String: String] = [
        "person": "person", "persons": "person", "people": "person", "head": "person", "guest": "person", "guests": "person",
        "attendee": "person", "attendees": "person", "participant": "person", "participants": "person", "employee": "person",
        "night": "night", "nights": "night", "day": "day", "days": "day", "kilometre": "km", "kilometer": "km", "km": "km", "mile": "mile",
        "month": "month", "year": "year", "week": "week", "item": "item", "each": "item", "piece": "item", "trip": "trip", "event": "event",
        "hour": "hour", "quarter": "quarter", "invoice": "invoice", "transaction": "transaction", "payment": "payment",
    ]
    /// Words a count may be of that are really the per-unit of an amount nearby, or not things at all.
    static let notCounted: Set<String> = [
        "of", "and", "or", "to", "in", "on", "at", "for", "the", "a", "an", "per", "is", "are", "was", "am", "pm", "percent", "x", "times",
        "working", "business", "calendar",
    ]

    /// The tokens of `text`: lower-case words, numbers (thousands separators and `k`/`m` suffixes resolved), and the
    /// symbols `€ $ £ % : - –` on their own.
    static func tokens(_ text: String) -> [Token] {
        let characters = Array(text.lowercased())
        var tokens: [Token] = []
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character.isASCII, character.isNumber {
                let (value, end) = FactMatcher.number(characters, from: index)
                var suffixEnd = end
                while suffixEnd < characters.count, characters[suffixEnd].isLetter { suffixEnd += 1 }
                let suffix = String(characters[end..<suffixEnd])
                switch suffix {
                case "": tokens.append(Token(text: FactMatcher.format(value), number: value))
                case "k": tokens.append(Token(text: FactMatcher.format(value * 1_000), number: value * 1_000, scaled: true))
                case "m", "mn", "mio": tokens.append(Token(text: FactMatcher.format(value * 1_000_000), number: value * 1_000_000, scaled: true))
                case "bn": tokens.append(Token(text: FactMatcher.format(value * 1e9), number: value * 1e9, scaled: true))
                case "st", "nd", "rd", "th": tokens.append(Token(text: FactMatcher.format(value) + "th", number: value))
                case "am", "pm":
                    tokens.append(Token(text: FactMatcher.format(value), number: value))
                    tokens.append(Token(text: suffix))
                default:
                    // `10km`, `8h`, `24hrs`: a number and its unit.
                    if durationDays[suffix] != nil || distanceKilometres[suffix] != nil || currencyWords[suffix] != nil {
                        tokens.append(Token(text: FactMatcher.format(value), number: value))
                        tokens.append(Token(text: suffix))
                    } else {
                        tokens.append(Token(text: String(characters[index..<suffixEnd])))
                    }
                }
                index = suffixEnd
            } else if character.isLetter {
                var end = index
                while end < characters.count, characters[end].isLetter || characters[end] == "'" || characters[end] == "’" { end += 1 }
                var word = String(characters[index..<end]).replacingOccurrences(of: "’", with: "'")
                if word.hasSuffix("'s") { word.removeLast(2) }
                tokens.append(Token(text: word))
                index = end
            } else if "€$£%:-–+".contains(character) {
                tokens.append(Token(text: String(character)))
                index += 1
            } else {
                if ",.;!?()".contains(character) { tokens.append(Token(text: String(character))) }
                index += 1
            }
        }
        // `2 million`, `10 thousand`: one number.
        var merged: [Token] = []
        for token in tokens {
            if ["thousand", "million", "billion"].contains(token.text), let previous = merged.last?.number {
                let factor = token.text == "thousand" ? 1_000.0 : token.text == "million" ? 1_000_000 : 1e9
                merged[merged.count - 1] = Token(text: FactMatcher.format(previous * factor), number: previous * factor, scaled: true)
            } else {
                merged.append(token)
            }
        }
        return merged
    }

    /// The quantities of `text` and the conditions it sets on them.
    static func read(_ text: String) -> Reading {
        let tokens = tokens(text)
        var reading = Reading()
        var index = 0
        // Positions of quantities, to pair `between X and Y`, `from X to Y`, `X–Y`.
        var found: [(start: Int, end: Int, quantity: Quantity)] = []
        while index < tokens.count {
            if let (quantity, end) = quantity(in: tokens, at: index) {
                found.append((index, end, quantity))
                index = end
            } else {
                index += 1
            }
        }
        reading.quantities = found.map(\.quantity)
        var used = Set<Int>()
        for (position, item) in found.enumerated() where !used.contains(position) {
            var before = words(tokens, before: item.start, count: 5)
            while let last = before.last, ["the", "a", "an", "of", "each", "every"].contains(last) { before.removeLast() }
            let after = words(tokens, from: item.end, count: 3)
            // Ranges: `between X and Y`, `from X to Y`, `X–Y`, `X to Y`, `above X up to Y`.
            if position + 1 < found.count {
                let next = found[position + 1]
                let gap = tokens[item.end..<next.start].map(\.text)
                let sameDimension = next.quantity.comparable(with: item.quantity) || item.quantity.dimension == .plain
                // `between 5,000 and 10,000`, `5000 to 5999` (both ends included), `above 25,000 up to 250,000`.
                var inclusive: (lower: Bool, upper: Bool)?
                if sameDimension, gap.count <= 2, gap == ["and"] && before.last == "between" || gap == ["to"] || gap == ["-"] || gap == ["–"] {
                    inclusive = (true, true)
                } else if sameDimension, let lower = lowerBound(before), gap.count <= 2, let upper = upperBound(Array(gap.suffix(2)), after: []) {
                    inclusive = (lower, upper)
                }
                if let inclusive {
                    var quantity = next.quantity
                    if quantity.per == nil { quantity.per = item.quantity.per }
                    reading.conditions.append(
                        Condition(quantity: quantity, lower: (item.quantity.value, inclusive.lower), upper: (next.quantity.value, inclusive.upper)))
                    used.insert(position)
                    used.insert(position + 1)
                    continue
                }
            }
            if let inclusive = lowerBound(before) ?? lowerBoundAfter(after) {
                reading.conditions.append(Condition(quantity: item.quantity, lower: (item.quantity.value, inclusive), upper: nil))
            } else if let inclusive = upperBound(before, after: after) {
                reading.conditions.append(Condition(quantity: item.quantity, lower: nil, upper: (item.quantity.value, inclusive)))
            }
        }
        return reading
    }

    /// The quantity that starts at `index`, and where it ends.
    static func quantity(in tokens: [Token], at index: Int) -> (Quantity, Int)? {
        var position = index
        var currency: String?
        if let code = currencyWords[tokens[position].text], position + 1 < tokens.count, tokens[position + 1].number != nil {
            currency = code
            position += 1
        }
        // `a week`, `an hour`, `half a day`: one unit.
        var value: Double
        var scaled = false
        var ordinal = false
        let word = tokens[position].text
        if let number = tokens[position].number {
            value = number
            scaled = tokens[position].scaled
            ordinal = word.hasSuffix("th")
        } else if let number = numberWords[word], currency == nil {
            value = number
        } else if ["a", "an", "one"].contains(word), position + 1 < tokens.count, durationDays[tokens[position + 1].text] != nil {
            value = 1
        } else if let number = ordinalWords[word], position + 2 < tokens.count, tokens[position + 1].text == "working", tokens[position + 2].text == "day" {
            // `the fifth working day`: a day of the close, counted in working days.
            return (Quantity(value: number, dimension: .duration(working: true)), position + 3)
        } else {
            return nil
        }
        position += 1
        // `one and a half months`.
        if position + 2 < tokens.count, tokens[position].text == "and", tokens[position + 1].text == "a", tokens[position + 2].text == "half" {
            value += 0.5
            position += 3
        }
        func next(_ offset: Int = 0) -> String? { position + offset < tokens.count ? tokens[position + offset].text : nil }
        var quantity: Quantity
        if let code = currency {
            quantity = Quantity(value: value, dimension: .money(code))
        } else if let next = next(), let code = currencyWords[next] {
            quantity = Quantity(value: value, dimension: .money(code))
            position += 1
        } else if next() == "%" || next() == "percent" || (next() == "per" && next(1) == "cent") {
            quantity = Quantity(value: value, dimension: .percent)
            position += next() == "per" ? 2 : 1
        } else if next() == ":", position + 1 < tokens.count, let minutes = tokens[position + 1].number, value < 24, minutes < 60 {
            var hours = value
            if next(2) == "pm", hours < 12 { hours += 12 }
            quantity = Quantity(value: hours * 60 + minutes, dimension: .timeOfDay)
            position += next(2) == "pm" || next(2) == "am" ? 3 : 2
        } else if next() == "am" || next() == "pm", value <= 12 {
            let hours = next() == "pm" && value < 12 ? value + 12 : (next() == "am" && value == 12 ? 0 : value)
            quantity = Quantity(value: hours * 60, dimension: .timeOfDay)
            position += 1
        } else if ordinal || (next() == "of" && ["the", "each", "every", "a", "this", "that"].contains(next(1) ?? "") && next(2) == "month") {
            quantity = Quantity(value: value, dimension: .dayOfMonth)
        } else if let working = ["working", "business"].contains(next() ?? "") ? true : nil, let days = durationDays[next(1) ?? ""] {
            quantity = Quantity(value: value * days, dimension: .duration(working: working))
            position += 2
        } else if let days = durationDays[next() ?? ""] {
            quantity = Quantity(value: value * days, dimension: .duration(working: false))
            position += 1
        } else if let kilometres = distanceKilometres[next() ?? ""] {
            quantity = Quantity(value: value * kilometres, dimension: .distance)
            position += 1
        } else if scaled {
            quantity = Quantity(value: value, dimension: .money(nil))
        } else if next() == "of", ["us", "them", "you"].contains(next(1) ?? "") {
            // `the 4 of us`: people.
            quantity = Quantity(value: value, dimension: .count("person"))
            position += 2
        } else if let noun = next(), noun.first?.isLetter == true, !notCounted.contains(noun), !stopWords.contains(noun), tokens[position].number == nil {
            // `3 suppliers`, `4 people`, `5 laptops`, `three written quotes`: a count of the first noun-looking word.
            var nounPosition = position
            if ["written", "signed", "more", "new", "other", "further", "separate", "different", "full", "partial"].contains(noun),
                nounPosition + 1 < tokens.count, tokens[nounPosition + 1].text.first?.isLetter == true
            {
                nounPosition += 1
            }
            quantity = Quantity(value: value, dimension: .count(singular(tokens[nounPosition].text)))
            position = nounPosition + 1
        } else {
            quantity = Quantity(value: value, dimension: .plain)
        }
        // `per person`, `a night`, `each`, `/month`.
        if position < tokens.count {
            if tokens[position].text == "per" || tokens[position].text == "a" || tokens[position].text == "an", position + 1 < tokens.count,
                let unit = perUnits[tokens[position + 1].text]
            {
                quantity.per = unit
                position += 2
            } else if tokens[position].text == "each" {
                quantity.per = "item"
                position += 1
            }
        }
        return (quantity, position)
    }

    static let stopWords: Set<String> = ["the", "a", "an", "and", "or", "of", "to", "in", "on", "at", "for", "by", "with", "is", "are", "be", "it", "this", "that"]

    static func singular(_ word: String) -> String {
        if word == "people" { return "person" }
        if word.hasSuffix("ies"), word.count > 4 { return String(word.dropLast(3)) + "y" }
        if word.hasSuffix("ses") || word.hasSuffix("xes") { return String(word.dropLast(2)) }
        if word.hasSuffix("s"), !word.hasSuffix("ss"), word.count > 3 { return String(word.dropLast()) }
        return word
    }

    static func words(_ tokens: [Token], before index: Int, count: Int) -> [String] {
        var words: [String] = []
        var position = index - 1
        while position >= 0, words.count < count {
            let text = tokens[position].text
            if [",", ".", ";", "(", ")", "?", "!", ":"].contains(text) { break }
            words.insert(text, at: 0)
            position -= 1
        }
        return words
    }

    static func words(_ tokens: [Token], from index: Int, count: Int) -> [String] {
        var words: [String] = []
        var position = index
        while position < tokens.count, words.count < count {
            let text = tokens[position].text
            if [",", ".", ";", "(", ")", "?", "!", ":"].contains(text) { break }
            words.append(text)
            position += 1
        }
        return words
    }

    /// `above`, `over`, `more than`, `at least`, `from`, `after`, `exceeding`, `longer than`: a lower bound, and
    /// whether it is inclusive.
    static func lowerBound(_ before: [String]) -> Bool? {
        let last = before.last ?? ""
        let lastTwo = before.suffix(2).joined(separator: " ")
        let lastThree = before.suffix(3).joined(separator: " ")
        if ["at least", "minimum of", "no less than", "not less than", "or more"].contains(lastTwo) || lastThree == "no fewer than" { return true }
        if ["minimum", "min", "from"].contains(last) { return true }
        if ["more than", "greater than", "longer than", "older than", "higher than", "later than", "larger than", "bigger than"].contains(lastTwo) {
            return false
        }
        if ["above", "over", "exceeding", "exceeds", "exceed", "after", "beyond", "past"].contains(last) {
            // `not exceed`: an upper bound.
            if before.dropLast().last == "not" || before.dropLast().last == "never" { return nil }
            return false
        }
        return nil
    }

    static func lowerBoundAfter(_ after: [String]) -> Bool? {
        let firstTwo = after.prefix(2).joined(separator: " ")
        if ["or more", "or above", "or over", "or longer", "or higher", "and above", "and over", "and more"].contains(firstTwo) { return true }
        return nil
    }

    /// `up to`, `at most`, `below`, `under`, `less than`, `within`, `by`, `before`, `limit is`, `maximum`, `not
    /// exceed`, `… or less`: an upper bound, and whether it is inclusive.
    static func upperBound(_ before: [String], after: [String]) -> Bool? {
        let last = before.last ?? ""
        let lastTwo = before.suffix(2).joined(separator: " ")
        let firstTwo = after.prefix(2).joined(separator: " ")
        if ["or less", "or fewer", "or below", "or under", "or shorter", "or earlier", "and below", "and under", "at most", "or lower"].contains(firstTwo) {
            return true
        }
        if ["up to", "at most", "not more", "no more", "maximum of", "max of", "limit of", "cap of", "limited to", "capped at", "not exceed",
            "never exceed", "up until", "no later", "not later", "limit is", "cap is", "maximum is", "ceiling of", "is limited"].contains(lastTwo)
        {
            return true
        }
        if ["fewer than", "less than", "shorter than", "lower than", "earlier than", "smaller than"].contains(lastTwo) { return false }
        if ["below", "under", "before"].contains(last) { return false }
        if ["within", "maximum", "max", "until", "till", "by", "limit", "cap", "ceiling", "to"].contains(last) {
            // `to` only as the end of `from … to`, handled as a range; alone it names a recipient.
            return last == "to" ? nil : true
        }
        return nil
    }
}
