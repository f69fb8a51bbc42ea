import Foundation
import Retrieval
import Storage
import Synchronization

/// The built-in answerer: no language model, only the knowledge bank's own words, read the way a colleague reads a
/// policy before answering.
///
/// For each question (and each part of a question that asks two things) it scores the units of the retrieved
/// documents — sentences, list items and table rows with the sentence that introduces them, the answers of FAQ
/// entries — by meaning (cosine of the built-in embeddings, with the title and section), by the question's telling
/// words, and by the kind of answer asked for (a person, a date, an amount). Quantities in the question (`25k`,
/// `€25,000`, `10 hours`, `the 17th`) are checked against the conditions of the units (`up to`, `above`,
/// `between … and …`, `within 30 days`, `by the 15th`): in a list or table of bands only the band that holds is
/// answered, with the lower bands a cumulative rule (`also`, `second approval`) builds on; a rate times a
/// quantity of the question is worked out. The answer states the best unit first, then what completes it; a list
/// comes whole with its lead-in (reassembled from the stored document when a passage cut it); no two sentences say
/// the same thing. When no unit states what is asked (its telling words, or an answer of the kind asked for) the
/// answer is empty and the chat says it has none.
struct ExtractiveAnswerer: AnswerGenerator {
    let embedder: any Embedder
    /// Where whole documents around the retrieved passages, word weights and spelling come from (under the
    /// asker's rights).
    let bank: KnowledgeBank
    var tuning = Tuning()

    /// The weights and thresholds, chosen on the development half of `Benchmarks/answers`.
    struct Tuning: Sendable {
        /// A unit needs at least this score to answer (cosine + lexical + kind of answer).
        var minimumScore = 0.62
        /// How far below the best unit another may score and still be added.
        var spread = 0.20
        var lexicalWeight = 0.35
        var fitWeight = 0.10
        var holdsBonus = 0.08
        var failsPenalty = 0.05
        /// An FAQ answer about another amount than the question's loses this much.
        var exampleMismatch = 0.10
        var topPassageBonus = 0.03
        /// How many words the bank has never seen a question may hold in its focus, when the focus is narrower than
        /// the question (`which audit firm`: none) and when it is the whole question (`is the card a visa or amex`: one).
        var unknownFocusWords = 0
        var unknownWholeWords = 1
        /// Unknown words count only in a bank with at least this many distinct terms: a handful of documents knows
        /// too few words for a missing one to mean the subject is missing.
        var minimumVocabulary = 1_000
        var maximumUnits = 5
        var maximumCharacters = 900
        var maximumCandidates = 220
    }

    var name: String { "builtin" }

    func checkReachable() async -> Bool { true }

    func generate(_ request: GenerationRequest) -> AsyncThrowingStream<String, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let answer = try await compose(request)
                    // Word by word, so streaming clients see the answer build up like any other generator's.
                    var first = true
                    for word in answer.split(separator: " ", omittingEmptySubsequences: false) {
                        try Task.checkCancellation()
                        continuation.yield((first ? "" : " ") + word)
                        first = false
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// A unit of a retrieved document that may go into the answer.
    struct Candidate {
        var document: Int
        var unit: Int
        var kind: DocumentOutline.Unit.Kind
        /// The passage number it is cited with.
        var passage: Int
        /// The passage's rank in retrieval (0 = best).
        var rank: Int
        var text: String
        /// Title, section and lead-in: scored with the unit, not shown.
        var context: String
        var group: Int
        /// The heading the unit stands under, and whether its list has a lead-in sentence.
        var heading: String?
        var hasLeadIn: Bool
        var reading: QuantityReader.Reading
        var terms: Set<String>
        var contextTerms: Set<String>
        var vector: [Float] = []
        var score = 0.0
        var conditionHolds: Bool?
    }

    struct Document {
        var id: String
        var title: String
        var outline: DocumentOutline
    }

    /// The answer text, or an empty string when nothing retrieved states what is asked.
    func compose(_ request: GenerationRequest) async throws -> String {
        // Misspelt words read as the bank's words they are one edit from (`reciept` → `receipt`).
        let analysis = QuestionAnalysis(bank.corrected(request.question, rights: request.rights).text)
        let termWeights = { (text: String) in bank.termWeights(text, rights: request.rights) }
        let (documents, candidates) = try await gather(request)
        guard !candidates.isEmpty else { return "" }
        var scored = candidates
        let vectors = try await embedder.embed(analysis.parts.map(\.text) + scored.map { $0.context + ": " + $0.text })
        for index in scored.indices { scored[index].vector = vectors[analysis.parts.count + index] }

        let weights = termWeights(analysis.normalized)
        // Positions in `scored` of the units chosen for each part.
        var selected: [[Int]] = []
        for (partIndex, part) in analysis.parts.enumerated() {
            let partWeights = analysis.parts.count == 1 ? weights : termWeights(part.text)
            let ranked = score(scored, part: part, vector: vectors[partIndex], weights: partWeights, analysis: analysis)
            let taken = Set(selected.flatMap { $0 })
            let chosen = choose(ranked, analysis: analysis, part: part, taken: taken.sorted().map { scored[$0] })
            var positions: [Int] = []
            for index in chosen {
                guard let position = scored.firstIndex(where: { $0.document == ranked[index].document && $0.unit == ranked[index].unit }),
                    !taken.contains(position)
                else { continue }
                scored[position].score = ranked[index].score
                scored[position].conditionHolds = ranked[index].conditionHolds
                positions.append(position)
            }
            selected.append(positions)
        }
        // Honest refusal, part by part: the answer must hold an answer of the kind asked for (an amount, a date, a
        // name…), and what is asked must not turn on words the bank has never seen (`which audit firm`).
        for (index, part) in analysis.parts.enumerated() where !selected[index].isEmpty {
            let units = selected[index].map { scored[$0] }
            let focusWeights = termWeights(part.focus)
            let fits = Self.answersKind(part, units: units)
            // Words of the focus the bank has never seen (`visa`, `biggest`), and no synonym of which it knows.
            let unknown = QuestionTerms.telling(focusWeights.filter { $0.idf == nil }).filter { term in
                !term.alternatives.dropFirst().contains { alternative in termWeights(alternative).contains { $0.idf != nil } }
            }.count
            let narrow = part.focus != part.text.components(separatedBy: " (").first
            let vocabularyTells = bank.vocabularySize >= tuning.minimumVocabulary
            let refused = !fits || vocabularyTells && unknown > (narrow ? tuning.unknownFocusWords : tuning.unknownWholeWords)
            if refused { selected[index] = [] }
        }
        let units = selected.flatMap { $0 }
        guard !units.isEmpty else { return "" }
        return render(units.map { scored[$0] }, documents: documents, analysis: analysis)
    }

    /// The documents of the retrieved passages, outlined, and their units near the passages.
    func gather(_ request: GenerationRequest) async throws -> ([Document], [Candidate]) {
        var order: [String] = []
        for passage in request.passages where !order.contains(passage.hit.documentID) { order.append(passage.hit.documentID) }
        var bodies: [String: String] = [:]
        try await withThrowingTaskGroup(of: (String, String?).self) { group in
            for id in order { group.addTask { [bank] in (id, try await bank.document(id: id, rights: request.rights)?.body) } }
            for try await (id, body) in group { bodies[id] = body }
        }
        let analyzer = EnglishAnalyzer()
        var documents: [Document] = []
        var candidates: [Candidate] = []
        for id in order {
            let passages = request.passages.enumerated().filter { $0.element.hit.documentID == id }
            guard let first = passages.first?.element else { continue }
            // A document deleted since retrieval: its passages alone.
            let body = bodies[id] ?? nil
            let outline = OutlineCache.shared.outline(id: id, body: body ?? passages.map(\.element.hit.passage).joined(separator: "\n\n"))
            let offset = body == nil ? 0 : nil as Int?
            let document = Document(id: id, title: first.hit.title, outline: outline)
            let documentIndex = documents.count
            documents.append(document)
            func passage(of range: Range<Int>) -> (number: Int, rank: Int)? {
                if offset != nil { return passages.first.map { ($0.element.number, $0.offset) } }
                for (rank, item) in passages where range.lowerBound >= item.hit.start && range.upperBound <= item.hit.end + 1 {
                    return (item.number, rank)
                }
                // A unit a passage cuts: cited with the passage holding most of it.
                for (rank, item) in passages where range.lowerBound < item.hit.end && range.upperBound > item.hit.start {
                    let overlap = min(range.upperBound, item.hit.end) - max(range.lowerBound, item.hit.start)
                    if overlap * 2 >= range.count { return (item.number, rank) }
                }
                return nil
            }
            var inPassage: [Int: (number: Int, rank: Int)] = [:]
            for (index, unit) in outline.units.enumerated() { if let found = passage(of: unit.range) { inPassage[index] = found } }
            // Groups (lists, tables) touched by a passage come whole: a list a passage cut is reassembled.
            var groupPassage: [Int: (number: Int, rank: Int)] = [:]
            for (index, found) in inPassage where outline.units[index].group >= 0 {
                let group = outline.units[index].group
                if groupPassage[group].map({ found.rank < $0.rank }) ?? true { groupPassage[group] = found }
            }
            for (index, unit) in outline.units.enumerated() {
                guard let found = inPassage[index] ?? (unit.group >= 0 ? groupPassage[unit.group] : nil) else { continue }
                let contextText = Self.context(of: index, in: outline, title: first.hit.title)
                candidates.append(
                    Candidate(
                        document: documentIndex, unit: index, kind: unit.kind, passage: found.number, rank: found.rank, text: unit.text,
                        context: contextText, group: unit.group, heading: unit.section.last, hasLeadIn: unit.leadIn != nil,
                        reading: QuantityReader.read(unit.text), terms: Set(analyzer.terms(unit.text)),
                        contextTerms: Set(analyzer.terms(contextText))))
            }
        }
        // The best passages' units first when there are too many to score.
        if candidates.count > tuning.maximumCandidates {
            candidates = Array(candidates.sorted { $0.rank < $1.rank }.prefix(tuning.maximumCandidates))
        }
        return (documents, candidates)
    }

    /// What a unit is read with: its document's title, its section, the lead-in of its list or the question it
    /// answers. Embedded before the unit's text (`context: text`).
    static func context(of index: Int, in outline: DocumentOutline, title: String) -> String {
        let unit = outline.units[index]
        var context = [title] + unit.section.suffix(2)
        if let lead = unit.leadIn { context.append(outline.units[lead].text) }
        if unit.kind == .answer, let question = unit.question { context.append(outline.units[question].text) }
        return context.joined(separator: " — ")
    }

    /// Embeds the units of the bank's documents before anyone asks (through the same cache answers use), so that
    /// the first question about a document does not wait for its sentences: at most `maximumUnits` units, pausing
    /// between batches.
    /// - Returns: how many units were embedded.
    func prepare(maximumUnits: Int) async throws -> Int {
        var cursor: String?
        var embedded = 0
        repeat {
            let page = try await bank.documents(after: cursor, limit: 20, source: nil, rights: .everything)
            cursor = page.next
            var texts: [String] = []
            for record in page.documents {
                let outline = OutlineCache.shared.outline(id: record.id, body: record.body)
                for index in outline.units.indices {
                    texts.append(Self.context(of: index, in: outline, title: record.title) + ": " + outline.units[index].text)
                }
            }
            texts = Array(texts.prefix(maximumUnits - embedded))
            for start in stride(from: 0, to: texts.count, by: 32) {
                try Task.checkCancellation()
                _ = try await embedder.embed(Array(texts[start..<min(start + 32, texts.count)]))
                await Task.yield()
            }
            embedded += texts.count
        } while cursor != nil && embedded < maximumUnits
        return embedded
    }

    /// The candidates scored for one part of the question, best first.
    func score(_ candidates: [Candidate], part: QuestionAnalysis.Part, vector: [Float], weights: [(term: String, idf: Double?)], analysis: QuestionAnalysis)
        -> [Candidate]
    {
        let telling = QuestionTerms.telling(weights)
        let total = telling.reduce(0) { $0 + $1.weight }
        let quantities = Self.effectiveQuantities(analysis.quantities)
        var scored = candidates
        for index in scored.indices {
            var candidate = scored[index]
            let cosine = Double(Self.dot(vector, candidate.vector))
            var lexical = 0.0
            if total > 0 {
                for term in telling {
                    if term.alternatives.contains(where: candidate.terms.contains) {
                        lexical += term.weight
                    } else if term.alternatives.contains(where: candidate.contextTerms.contains) {
                        lexical += term.weight * 0.5
                    }
                }
                lexical /= total
            }
            let fit = QuestionAnalysis.fit(part.ask, text: candidate.text, reading: candidate.reading)
            var value = cosine + tuning.lexicalWeight * lexical + tuning.fitWeight * fit + (candidate.rank == 0 ? tuning.topPassageBonus : 0)
            // The question's quantities against the unit's conditions: per dimension one condition that holds is
            // enough (`above 5,000 EUR, or above 1,000 EUR at year-end`), and every dimension compared must hold
            // (`above 10 % and above 20,000 EUR`).
            switch Self.verdict(candidate.reading.conditions, quantities: quantities) {
            case true?:
                value += tuning.holdsBonus
                candidate.conditionHolds = true
            case false?:
                value -= tuning.failsPenalty
                candidate.conditionHolds = false
            case nil:
                break
            }
            candidate.score = value
            scored[index] = candidate
        }
        // A question (an FAQ entry) lends its score to its answer; an example about another amount than the
        // question's (`Who approves a credit limit of 300,000 EUR?`) answers for that amount only.
        for index in scored.indices where scored[index].kind == .question {
            let question = scored[index]
            let example = Self.verdict(
                question.reading.quantities.map { Condition(quantity: $0, lower: ($0.value, true), upper: ($0.value, true)) }, quantities: quantities)
            for answer in scored.indices where scored[answer].document == question.document && scored[answer].kind == .answer {
                guard scored[answer].unit > question.unit, scored[answer].unit <= question.unit + 3 else { continue }
                var lent = question.score - 0.02
                if example == false { lent -= tuning.exampleMismatch }
                scored[answer].score = max(scored[answer].score, lent)
                if example == false {
                    scored[answer].score = min(scored[answer].score, lent)
                    scored[answer].conditionHolds = false
                }
            }
        }
        return scored.sorted { $0.score > $1.score }
    }

    /// Whether a unit's conditions hold for the question's quantities: nil when none is comparable; per dimension
    /// one condition that holds is enough, and every dimension compared must hold.
    static func verdict(_ conditions: [Condition], quantities: [Quantity]) -> Bool? {
        var dimensions: [String: Bool] = [:]
        for quantity in quantities {
            for condition in conditions where condition.quantity.comparable(with: quantity) {
                let key = dimensionKey(condition.quantity)
                dimensions[key] = (dimensions[key] ?? false) || condition.holds(for: quantity.value)
            }
        }
        return dimensions.isEmpty ? nil : !dimensions.values.contains(false)
    }

    static func dimensionKey(_ quantity: Quantity) -> String {
        switch quantity.dimension {
        case .money, .plain: "money/" + (quantity.per ?? "")
        case .percent: "percent"
        case .duration: "duration"
        case .distance: "distance"
        case .count(let thing): "count/" + thing
        case .dayOfMonth: "day"
        case .timeOfDay: "time"
        }
    }

    /// Quantities as the rules state them: a total for several people also counts per person (`520 EUR for the 4 of
    /// us` is 130 EUR per person).
    static func effectiveQuantities(_ quantities: [Quantity]) -> [Quantity] {
        var result = quantities
        let people = quantities.compactMap { quantity -> Double? in
            if case .count(let thing) = quantity.dimension, Arithmetic.personWords.contains(thing), quantity.value > 0 { return quantity.value }
            return nil
        }
        // `3 clients … the 4 of us`: the larger count of people includes the others.
        guard let count = people.max() else { return result }
        for quantity in quantities where quantity.per == nil {
            guard case .money = quantity.dimension else { continue }
            result.append(Quantity(value: quantity.value / count, dimension: quantity.dimension, per: "person"))
        }
        return result
    }

    /// The indices (into `ranked`) of the units that answer this part, in the order they are told.
    func choose(
        _ ranked: [Candidate], analysis: QuestionAnalysis, part: QuestionAnalysis.Part, taken: [Candidate]
    ) -> [Int] {
        // What an earlier part answered (or says again) is not this part's answer.
        let answerable = ranked.indices.filter { index in
            ranked[index].kind != .question
                && !taken.contains { $0.document == ranked[index].document && $0.unit == ranked[index].unit || Self.sameContent($0, ranked[index]) }
        }
        guard let bestIndex = answerable.first, ranked[bestIndex].score >= tuning.minimumScore else { return [] }
        let best = ranked[bestIndex]
        var chosen: [Int] = []
        var length = 0
        func add(_ index: Int) {
            guard !chosen.contains(index), !taken.contains(where: { $0.document == ranked[index].document && $0.unit == ranked[index].unit }) else {
                return
            }
            // The best unit always; the rest while the answer stays short.
            guard chosen.isEmpty || length + ranked[index].text.count <= tuning.maximumCharacters else { return }
            chosen.append(index)
            length += ranked[index].text.count
        }
        // Nothing said twice, in this part or an earlier one.
        func isDuplicate(_ index: Int) -> Bool {
            chosen.contains { Self.sameContent(ranked[$0], ranked[index]) } || taken.contains { Self.sameContent($0, ranked[index]) }
        }
        if best.group >= 0 {
            // A list or table: the members that answer, with their lead-in.
            let members = ranked.indices.filter { ranked[$0].document == best.document && ranked[$0].group == best.group && ranked[$0].kind != .leadIn }
                .sorted { ranked[$0].unit < ranked[$1].unit }
            let lead = ranked.indices.first { ranked[$0].document == best.document && ranked[$0].group == best.group && ranked[$0].kind == .leadIn }
            let conditioned = members.filter { ranked[$0].conditionHolds != nil }
            // A list of bands (`up to 10,000 EUR…`, `above 10,000 EUR…`) asked about without an amount: every band.
            let banded = members.filter { !ranked[$0].reading.conditions.isEmpty }
            if !conditioned.isEmpty {
                for index in bands(members, in: ranked) { add(index) }
            } else if banded.count >= 2, banded.count * 2 >= members.count {
                // The items of one list are distinct by construction, however alike they read.
                if let lead { add(lead) }
                for index in members.prefix(10) { add(index) }
            } else if best.kind == .leadIn {
                // The list it announces, whole.
                add(bestIndex)
                for index in members.prefix(10) { add(index) }
            } else {
                // The best member with the members nearly as good; a member that is no sentence of its own comes with
                // its lead-in and the whole list (`always include: …`).
                add(bestIndex)
                if let lead, Self.isFragment(best.text) {
                    add(lead)
                    for index in members.prefix(8) where !isDuplicate(index) { add(index) }
                } else {
                    let close = members.filter { $0 != bestIndex && ranked[$0].score >= best.score - tuning.spread }.prefix(4)
                    for index in close where !isDuplicate(index) { add(index) }
                }
                chosen.sort { ranked[$0].kind == .leadIn ? true : ranked[$1].kind == .leadIn ? false : ranked[$0].unit < ranked[$1].unit }
            }
        } else {
            // A rule that builds on the one before it (`Reports above 5,000 EUR also need the finance controller's
            // approval`) comes with it.
            if Self.isCumulative(best.text),
                let previous = ranked.indices.first(where: {
                    ranked[$0].document == best.document && ranked[$0].unit == best.unit - 1 && ranked[$0].kind != .question && ranked[$0].group < 0
                }), !isDuplicate(previous)
            {
                add(previous)
            }
            if !isDuplicate(bestIndex) { add(bestIndex) }
        }
        // What completes the answer: other units nearly as good, saying something new.
        for index in answerable where !chosen.contains(index) {
            let candidate = ranked[index]
            guard chosen.count < tuning.maximumUnits, candidate.score >= max(tuning.minimumScore, best.score - tuning.spread) else { break }
            guard length + candidate.text.count <= tuning.maximumCharacters else { continue }
            // A rule that does not hold for the question's numbers answers only a yes-or-no question (`4 months of
            // access, can we?` — no: 90 days at most).
            guard candidate.conditionHolds != false || best.conditionHolds == nil && analysis.yesNo, !isDuplicate(index) else { continue }
            guard !Self.restates(candidate, question: analysis.normalized) else { continue }
            if candidate.group >= 0, candidate.group == best.group, candidate.document == best.document { continue }
            if candidate.kind == .leadIn { continue }
            if candidate.group >= 0, candidate.conditionHolds == true, Self.isCumulative(candidate.text) {
                // A band of a list that builds on the bands below it (`above 10,000 EUR need a second approval`):
                // with them, as when the list answers first.
                let members = ranked.indices.filter {
                    ranked[$0].document == candidate.document && ranked[$0].group == candidate.group && ranked[$0].kind != .leadIn
                }
                for member in bands(members, in: ranked) { add(member) }
                continue
            }
            add(index)
        }
        return chosen
    }

    /// In a list or table of bands (`up to 10,000`, `above 10,000`, `above 100,000 also`): the band the question's
    /// quantity falls in — the narrowest that holds — and, when it builds on the others (`also`, `second`, `in
    /// addition`), the bands below it.
    func bands(_ members: [Int], in ranked: [Candidate]) -> [Int] {
        // In the list's order: the first band is the one every cumulative rule builds on.
        let members = members.sorted { ranked[$0].unit < ranked[$1].unit }
        let holding = members.filter { ranked[$0].conditionHolds == true }
        guard !holding.isEmpty else {
            // No band holds: the best-scoring member says what the rule is.
            return members.max { ranked[$0].score < ranked[$1].score }.map { [$0] } ?? []
        }
        func bounds(_ index: Int) -> (lower: Double, upper: Double) {
            var lower = -Double.infinity
            var upper = Double.infinity
            for condition in ranked[index].reading.conditions {
                if let bound = condition.lower { lower = max(lower, bound.value) }
                if let bound = condition.upper { upper = min(upper, bound.value) }
            }
            return (lower, upper)
        }
        let narrowest = holding.max { a, b in
            let (la, ua) = bounds(a)
            let (lb, ub) = bounds(b)
            return la != lb ? la < lb : ua > ub
        }!
        var result = [narrowest]
        if Self.isCumulative(ranked[narrowest].text) {
            // The bands below build the chain of approvals: every member before it that holds, and the first band.
            for index in members where index != narrowest {
                if ranked[index].conditionHolds == true || index == members.first || Self.isCumulative(ranked[index].text) && bounds(index).lower < bounds(narrowest).lower {
                    result.append(index)
                }
            }
            result.sort { ranked[$0].unit < ranked[$1].unit }
        }
        return result
    }

    /// A rule that adds to another (`also need`, `a second approval`, `in addition`).
    static func isCumulative(_ text: String) -> Bool {
        let text = " " + text.lowercased() + " "
        return [" also ", " second ", " in addition", " additionally", " as well", " too ", " plus "].contains(where: text.contains)
    }

    /// Whether the units hold an answer of the kind the part asks for: an amount or rate for `how much`, a number for
    /// `how many`, a day for `what date`, a name for `what is their name`.
    static func answersKind(_ part: QuestionAnalysis.Part, units: [Candidate]) -> Bool {
        if part.wantsName { return units.contains { QuestionAnalysis.personName($0.text) } }
        if part.wantsDate {
            return units.contains { unit in
                unit.reading.quantities.contains { $0.dimension == .dayOfMonth || $0.dimension == .plain && (1...31).contains($0.value) }
                    || QuestionAnalysis.timeWords.prefix(7).contains(where: unit.text.lowercased().contains)
            }
        }
        switch part.ask {
        case .count:
            guard let counted = QuestionAnalysis.countedNoun(part.text) else { fallthrough }
            return units.contains { QuestionAnalysis.counts(counted, in: $0.text) }
        case .amount:
            return units.contains { QuestionAnalysis.fit(part.ask, text: $0.text, reading: $0.reading) > 0 }
        default:
            return true
        }
    }

    /// Two units saying the same thing: nearly all content words of the shorter in the longer, or near-identical meaning.
    static func sameContent(_ a: Candidate, _ b: Candidate) -> Bool {
        // Rules about different amounts (`up to 10,000 EUR…`, `above 100,000 EUR…`) say different things.
        let amountsA = Set(a.reading.quantities.map(\.value))
        let amountsB = Set(b.reading.quantities.map(\.value))
        if !amountsA.isEmpty, !amountsB.isEmpty, amountsA.isDisjoint(with: amountsB) { return false }
        let shorter = a.terms.count <= b.terms.count ? a.terms : b.terms
        let longer = a.terms.count <= b.terms.count ? b.terms : a.terms
        if !shorter.isEmpty, Double(shorter.intersection(longer).count) >= 0.8 * Double(shorter.count) { return true }
        return !a.vector.isEmpty && !b.vector.isEmpty && dot(a.vector, b.vector) > 0.92
    }

    /// A unit that only says back what the question says.
    static func restates(_ candidate: Candidate, question: String) -> Bool {
        let asked = Set(EnglishAnalyzer().terms(question))
        return candidate.terms.count >= 1 && candidate.terms.isSubset(of: asked) && candidate.reading.quantities.isEmpty
    }

    /// A list item that is not a sentence of its own (`a supplier stopping a critical delivery,`).
    static func isFragment(_ text: String) -> Bool {
        guard let first = text.first else { return true }
        return first.isLowercase || text.hasSuffix(",") || text.hasSuffix(";") || text.hasSuffix(" or") || text.hasSuffix(" and")
    }

    /// The answer: the direct answer first, lists with their lead-in, each unit with its citation; a worked example
    /// when a rate meets a quantity of the question.
    func render(_ units: [Candidate], documents: [Document], analysis: QuestionAnalysis) -> String {
        let quantities = Self.effectiveQuantities(analysis.quantities)
        let units = units.map { unit in
            var unit = unit
            unit.text = Self.holdingClauses(unit.text, quantities: quantities)
            return unit
        }
        var lines: [String] = []
        var index = 0
        while index < units.count {
            let unit = units[index]
            if unit.kind == .leadIn || (unit.group >= 0 && index + 1 < units.count && units[index + 1].group == unit.group && unit.kind != .item && unit.kind != .row) {
                var lead = Self.sentence(unit.text)
                if lead.hasSuffix(".") { lead.removeLast() }
                if !lead.hasSuffix(":") { lead += ":" }
                lines.append(Self.cite(String(lead.dropLast()), unit.passage, ending: ":"))
                index += 1
                while index < units.count, units[index].group == unit.group, units[index].document == unit.document {
                    let item = units[index]
                    let text = Self.sentence(item.text)
                    // Each item cited: the web page marks every cited sentence in its passage.
                    lines.append("- " + Self.cite(text, item.passage))
                    index += 1
                }
                continue
            }
            // A list without a lead-in sentence stands under its heading (`What is not reimbursed: Fines, …`).
            let bare = !unit.text.contains(":") && unit.text.split(separator: " ").count <= 10
            let heading = (unit.kind == .item || unit.kind == .row) && !unit.hasLeadIn && bare ? unit.heading.map { Self.sentence($0).dropLast() } : nil
            if unit.kind == .item || unit.kind == .row, index + 1 < units.count, units[index + 1].group == unit.group, units[index + 1].document == unit.document {
                // Several members of one list without its lead-in: a list of their own.
                if let heading { lines.append(String(heading) + ":") }
                while index < units.count, units[index].group == unit.group, units[index].document == unit.document {
                    lines.append("- " + Self.cite(Self.sentence(units[index].text), units[index].passage))
                    index += 1
                }
                continue
            }
            if let heading {
                lines.append(Self.cite(heading + ": " + Self.sentence(unit.text), unit.passage))
            } else {
                lines.append(Self.cite(Self.sentence(unit.text), unit.passage))
            }
            index += 1
        }
        if let worked = Arithmetic.workedExample(analysis: analysis, units: units) { lines.append(worked) }
        // Sentences run on; a list starts on a line of its own.
        var text = ""
        for line in lines {
            if text.isEmpty {
                text = line
            } else if line.hasPrefix("- ") || text.hasSuffix(":") {
                text += "\n" + line
            } else if text.split(separator: "\n").last?.hasPrefix("- ") == true {
                text += "\n" + line
            } else {
                text += " " + line
            }
        }
        return text
    }

    /// A sentence that states several bands (`Write-offs up to 10,000 EUR are approved by the finance controller, and
    /// write-offs above 10,000 EUR by the CFO`) cut to the clauses whose condition holds for the question's
    /// quantities; unchanged when no clause holds, when every clause does, or without quantities.
    static func holdingClauses(_ text: String, quantities: [Quantity]) -> String {
        guard !quantities.isEmpty else { return text }
        var clauses: [String] = []
        var rest = text[...]
        while let range = rest.range(of: #"(; |, and |, or |, while |, whereas )"#, options: .regularExpression) {
            clauses.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        clauses.append(String(rest))
        guard clauses.count > 1 else { return text }
        let verdicts = clauses.map { verdict(QuantityReader.read($0).conditions, quantities: quantities) }
        guard verdicts.contains(true), verdicts.contains(false) else { return text }
        var kept = zip(clauses, verdicts).filter { $0.1 != false }.map(\.0)
        if let last = kept.last, let end = text.last, ".!?".contains(end), !last.hasSuffix(String(end)) { kept[kept.count - 1] = last + String(end) }
        return kept.joined(separator: "; ")
    }

    /// A unit as a sentence: capitalised, ending with a full stop (a list fragment's trailing comma goes).
    static func sentence(_ text: String) -> String {
        var text = text.trimmingCharacters(in: .whitespaces)
        while let last = text.last, ",;".contains(last) { text.removeLast() }
        if text.hasSuffix(" or") || text.hasSuffix(" and") { text = String(text.dropLast(text.hasSuffix(" or") ? 3 : 4)) }
        if let first = text.first, first.isLowercase { text = first.uppercased() + text.dropFirst() }
        if let last = text.last, !".!?:".contains(last) { text += "." }
        return text
    }

    /// "The limit is 10,000 EUR [2]." — the marker goes before the closing punctuation.
    static func cite(_ sentence: String, _ number: Int, ending: String? = nil) -> String {
        var text = sentence
        var closing = ""
        while let last = text.last, ".!?:;".contains(last) {
            closing = String(last) + closing
            text.removeLast()
        }
        return text + " [\(number)]" + (ending ?? (closing.isEmpty ? "." : closing))
    }

    static func dot(_ a: [Float], _ b: [Float]) -> Float {
        var sum: Float = 0
        for i in 0..<min(a.count, b.count) { sum += a[i] * b[i] }
        return sum
    }
}

/// Outlines of recently answered documents, by id and body: a document is outlined once per version, not per question.
final class OutlineCache: Sendable {
    static let shared = OutlineCache()
    private let entries = Mutex<[String: (hash: Int, outline: DocumentOutline)]>([:])

    func outline(id: String, body: String) -> DocumentOutline {
        let hash = body.hashValue
        if let entry = entries.withLock({ $0[id] }), entry.hash == hash { return entry.outline }
        let outline = DocumentOutline(body: body)
        entries.withLock {
            if $0.count >= 2_000 { $0.removeAll(keepingCapacity: true) }
            $0[id] = (hash, outline)
        }
        return outline
    }
}
