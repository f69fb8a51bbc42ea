import Foundation

/// The sums a colleague would do for the asker: a rate of the policy times a quantity of the question (0.20 EUR per
/// km for 175 km), a total of the question per person against a per-person limit (520 EUR for 4 people), an amount
/// spread per month over a period (6,000 EUR over 5 years). Each result names the figures it comes from and cites the
/// sentence that states the rule.
enum Arithmetic {
    static func workedExample(analysis: QuestionAnalysis, units: [ExtractiveAnswerer.Candidate]) -> String? {
        let quantities = analysis.quantities
        let text = " " + analysis.normalized + " "
        let asksAmount = analysis.parts.contains { $0.ask == .amount }
        // A total for several people against a per-person figure.
        let people = quantities.compactMap { quantity -> Double? in
            if case .count(let thing) = quantity.dimension, personWords.contains(thing) { return quantity.value } else { return nil }
        }.max()
        if let total = quantities.first(where: { if case .money = $0.dimension { return $0.per == nil } else { return false } }), let people, people > 1 {
            for unit in units {
                guard let limit = unit.reading.quantities.first(where: { if case .money = $0.dimension { return $0.per == "person" } else { return false } })
                else { continue }
                let each = total.value / people
                let verdict = each > limit.value ? "above" : "within"
                return "\(money(total.value, total)) for \(count(people)) people is \(money(each, total)) per person, \(verdict) the limit of \(money(limit.value, limit)) per person [\(unit.passage)]."
            }
        }
        // A rate per unit times the question's quantity of that unit (`how much can I claim for 175 km`), unless the
        // question gives its own rate for it (`240 a night`).
        if asksAmount {
            for unit in units {
                for rate in unit.reading.quantities {
                    guard case .money = rate.dimension, let per = rate.per, per != "person" || people == nil else { continue }
                    guard !quantities.contains(where: { $0.per == per }) else { continue }
                    guard let amount = quantities.first(where: { matches($0, per: per) }), amount.value > 0 else { continue }
                    let product = rate.value * amount.value
                    return "For \(measure(amount, per: per)) at \(money(rate.value, rate)) per \(per): \(money(product, rate)) [\(unit.passage)]."
                }
            }
        }
        // An amount spread per month: over a year (`annual`, `a year`), or over the months a rule spreads it.
        guard let total = quantities.first(where: { if case .money = $0.dimension { return $0.per == nil || $0.per == "year" } else { return false } })
        else { return nil }
        let asksMonthly = [" per month", " a month", " monthly", " each month", " every month"].contains(where: text.contains)
        for unit in units {
            // `released at 1,000 EUR per month over twelve months`: the same spreading for the question's amount.
            let spreads = unit.reading.quantities.contains { if case .money = $0.dimension { return $0.per == "month" } else { return false } }
            guard asksMonthly || spreads else { continue }
            // A period, not a condition's bound (`a useful life of more than one year`).
            let bounds = Set(unit.reading.conditions.map(\.quantity.value))
            guard let period = unit.reading.quantities.first(where: {
                if case .duration = $0.dimension { return $0.value >= 60 && !bounds.contains($0.value) } else { return false }
            }) else { continue }
            let months = (period.value / 30.4375).rounded()
            guard months >= 2 else { continue }
            let years = period.value / 365
            let span = years >= 1 && years == years.rounded() && !spreads ? "\(count(years)) years (\(count(months)) months)" : "\(count(months)) months"
            return "\(money(total.value, total)) over \(span) is \(money(total.value / months, total)) per month [\(unit.passage)]."
        }
        if asksMonthly, total.per == "year" || [" annual ", " annually ", " a year ", " per year ", " yearly ", " per annum "].contains(where: text.contains) {
            return "\(money(total.value, total)) over 12 months is \(money(total.value / 12, total)) per month."
        }
        return nil
    }

    static let personWords: Set<String> = ["person", "people", "guest", "client", "attendee", "u", "us", "employee", "colleague", "participant"]

    /// Whether a question quantity is a number of what `per` counts.
    static func matches(_ quantity: Quantity, per: String) -> Bool {
        switch quantity.dimension {
        case .distance: return per == "km"
        case .duration: return per == "day" && quantity.value >= 1 || per == "night" && quantity.value >= 1 || per == "hour"
        case .count(let thing): return thing == per || per == "person" && personWords.contains(thing) || per == "night" && thing == "night"
        default: return false
        }
    }

    static func measure(_ quantity: Quantity, per: String) -> String {
        switch quantity.dimension {
        case .distance: return "\(count(quantity.value)) km"
        case .duration: return per == "hour" ? "\(count(quantity.value * 24)) hours" : "\(count(quantity.value)) \(per)s"
        case .count(let thing): return "\(count(quantity.value)) \(quantity.value == 1 ? thing : thing + "s")"
        default: return count(quantity.value)
        }
    }

    static func money(_ value: Double, _ like: Quantity) -> String {
        var currency = "EUR"
        if case .money(let code) = like.dimension, let code { currency = code }
        return format(value) + " " + currency
    }

    static func count(_ value: Double) -> String { format(value) }

    /// `25.50`, `1,000`, `7,000`, `0.30`: thousands separated, two decimals when there is a fraction.
    static func format(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        let formatter = NumberFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.numberStyle = .decimal
        formatter.usesGroupingSeparator = true
        formatter.groupingSeparator = ","
        formatter.decimalSeparator = "."
        formatter.minimumFractionDigits = rounded == rounded.rounded() ? 0 : 2
        formatter.maximumFractionDigits = 2
        return formatter.string(from: NSNumber(value: rounded)) ?? String(rounded)
    }
}
