@testable import Chat
import Testing

@Suite("Quantities and conditions")
struct QuantityTests {
    func quantities(_ text: String) -> [Quantity] { QuantityReader.read(text).quantities }

    @Test("amounts, durations, times, days and counts as people write them")
    func reading() {
        #expect(quantities("a 25k supplier invoice") == [Quantity(value: 25_000, dimension: .money(nil))])
        #expect(quantities("€25,000") == [Quantity(value: 25_000, dimension: .money("EUR"))])
        #expect(quantities("25.000 EUR") == [Quantity(value: 25_000, dimension: .money("EUR"))])
        #expect(quantities("3m in a deposit").first == Quantity(value: 3_000_000, dimension: .money(nil)))
        #expect(quantities("two weeks") == [Quantity(value: 14, dimension: .duration(working: false))])
        #expect(quantities("within 5 working days") == [Quantity(value: 5, dimension: .duration(working: true))])
        #expect(abs((quantities("out for about 10 hours").first?.value ?? 0) - 10.0 / 24) < 1e-9)
        #expect(quantities("approved on the 17th") == [Quantity(value: 17, dimension: .dayOfMonth)])
        #expect(quantities("it's 10:30") == [Quantity(value: 630, dimension: .timeOfDay)])
        #expect(quantities("around 2pm") == [Quantity(value: 840, dimension: .timeOfDay)])
        #expect(quantities("3 suppliers") == [Quantity(value: 3, dimension: .count("supplier"))])
        #expect(quantities("for the 4 of us") == [Quantity(value: 4, dimension: .count("person"))])
        #expect(quantities("90 eur a head") == [Quantity(value: 90, dimension: .money("EUR"), per: "person")])
        #expect(quantities("0.30 EUR per kilometre") == [Quantity(value: 0.3, dimension: .money("EUR"), per: "km")])
        #expect(quantities("175 km") == [Quantity(value: 175, dimension: .distance)])
        #expect(quantities("15%") == [Quantity(value: 15, dimension: .percent)])
        #expect(quantities("one and a half months").first?.value == 45)
    }

    @Test("conditions: up to, above, between, from … to, within, by the 15th, or more, limits")
    func conditions() {
        func condition(_ text: String) -> Condition? { QuantityReader.read(text).conditions.first }
        let upTo = condition("Invoices up to 10,000 EUR are approved by the budget owner")!
        #expect(upTo.holds(for: 10_000) && upTo.holds(for: 8_000) && !upTo.holds(for: 25_000))
        let above = condition("Invoices above 10,000 EUR need a second approval")!
        #expect(!above.holds(for: 10_000) && above.holds(for: 25_000))
        let band = condition("Contracts above 25,000 EUR up to 250,000 EUR are signed by the CFO")!
        #expect(band.holds(for: 60_000) && !band.holds(for: 20_000) && band.holds(for: 250_000) && !band.holds(for: 250_001))
        let between = condition("between 5,000 and 10,000 EUR")!
        #expect(between.holds(for: 5_000) && between.holds(for: 10_000) && !between.holds(for: 10_001))
        let range = condition("Cost centres 5000 to 5999: Product and Engineering")!
        #expect(range.holds(for: 5230) && !range.holds(for: 6000))
        let within = condition("submit within 30 days of the expense")!
        #expect(within.holds(for: 20) && !within.holds(for: 120))
        let by = condition("reports approved by the 15th of a month")!
        #expect(by.holds(for: 15) && !by.holds(for: 17) && by.quantity.dimension == .dayOfMonth)
        let limit = condition("The limit is 100 EUR per person")!
        #expect(limit.quantity.per == "person" && limit.holds(for: 90) && !limit.holds(for: 130))
        let atLeast = condition("three quotes or more")!
        #expect(atLeast.holds(for: 3) && !atLeast.holds(for: 2))
        let moreThan = condition("a day trip of more than 8 hours")!
        #expect(moreThan.holds(for: 10.0 / 24) && !moreThan.holds(for: 8.0 / 24))
        let notExceed = condition("must not exceed 2 million EUR")!
        #expect(notExceed.holds(for: 1_000_000) && !notExceed.holds(for: 3_000_000))
        #expect(condition("approved by the budget owner") == nil)
        #expect(condition("The invoice of 45,000 EUR") == nil, "a bare amount is no condition")
    }

    @Test("quantities compare only with their own kind and per-unit")
    func comparable() {
        let money = Quantity(value: 1, dimension: .money("EUR"))
        #expect(money.comparable(with: Quantity(value: 1, dimension: .money(nil))))
        #expect(!money.comparable(with: Quantity(value: 1, dimension: .money("PLN"))))
        #expect(!money.comparable(with: Quantity(value: 1, dimension: .money("EUR"), per: "person")))
        #expect(!money.comparable(with: Quantity(value: 1, dimension: .percent)))
        #expect(Quantity(value: 1, dimension: .duration(working: true)).comparable(with: Quantity(value: 2, dimension: .duration(working: false))))
    }
}
