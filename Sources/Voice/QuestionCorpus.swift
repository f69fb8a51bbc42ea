/// Questions about the knowledge bank, generated from its own text: people ask about what the documents state, so the
/// language model should expect "who approves the expense report" although the documents say "the expense report is
/// approved by …". Generic English question frames are filled with noun phrases, verb phrases and passive clauses
/// mined from the documents (found by determiners, prepositions, modal verbs and auxiliaries), and headings are
/// rewritten as questions ("How to X" → "how do i X", "X" → "what is X").
///
/// Only the documents are read. A generator this general also produces some questions a test set may hold word for
/// word, so whoever measures with one passes it as `withheld` (`omnifin bench voice` does).
public enum QuestionCorpus {
    /// Words that are not content words: they end noun phrases and verb phrases.
    public static let stopWords: Set<String> = Set(
        """
        a an the this that these those my our your their its his her each every any some no all both either neither of to in on at by for from with
        without within into onto over under above below between after before during until since about against through across per via than as and or
        but nor so if when whenever while because although though unless whether where which who whom whose what why how is are was were be been being
        am do does did done doing have has had having will would shall should can could may might must not only also too very more most less least
        such same other another own there here then it it's they them he she we you i me us him one ones
        """.split(whereSeparator: \.isWhitespace).map(String.init))
    public static let determiners: Set<String> = ["the", "a", "an", "our", "your", "my", "their", "each", "every", "this", "any", "all", "no"]
    public static let prepositions: Set<String> = ["of", "for", "in", "on", "at", "by", "from", "with", "about", "per", "above", "below", "after", "before"]
    public static let modals: Set<String> = ["must", "can", "should", "may", "cannot", "to", "will"]
    /// Adverbs that may stand between a modal and its verb ("must not submit", "can also approve").
    public static let modalAdverbs: Set<String> = ["not", "also", "only", "always", "never"]
    /// What a verb follows ("must submit", "can approve", "never share"): the verbs of verb phrases are words seen here.
    public static let verbCues: Set<String> = ["must", "can", "should", "may", "cannot", "will", "not", "also", "always", "never"]
    public static let irregularParticiples: Set<String> = Set(
        "paid kept sent made held set built bought sold spent lost found given taken written signed done shown told known seen met won run cut put read"
            .split(separator: " ").map(String.init))
    public static let questionWords: Set<String> = ["what", "who", "when", "where", "why", "how", "which", "can", "do", "does", "is", "are", "should"]

    /// Frames for noun phrases: `{np}` takes one with its determiner as found ("the expense report"), `{n}` a bare
    /// one ("expense report").
    public static let nounPhraseFrames = [
        "what is {np}", "what are {np}", "what was {np}", "what is meant by {n}", "what does {n} mean", "what do you mean by {n}",
        "tell me about {np}", "can you tell me about {np}", "i need to know about {np}", "i have a question about {np}", "explain {np}",
        "please explain {np}", "give me information about {np}", "what should i know about {np}", "what are the rules for {n}",
        "what is the rule for {n}", "what is the policy on {n}", "what is the process for {n}", "what is the deadline for {n}",
        "what is the limit for {n}", "what is the limit on {n}", "what is the rate for {n}", "what is the threshold for {n}",
        "who approves {np}", "who is responsible for {np}", "who handles {np}", "who owns {np}", "who signs {np}", "who sets {np}",
        "who decides on {np}", "who checks {np}", "who pays {np}", "who is the contact for {n}", "who do i contact about {n}",
        "who can i ask about {n}", "where do i find {np}", "where can i find {np}", "where is {np}", "when is {np}", "when are {np}",
        "when is {np} due", "when are {np} due", "when does {np} start", "when do {np} start", "when does {np} happen",
        "when do {np} happen", "how does {np} work", "how do {np} work", "how is {np} calculated", "how are {np} calculated",
        "how long does {np} take", "how much is {np}", "how many {n} are there", "how many {n} do i need", "how often is {np} updated",
        "how often are {np} updated", "is there {np}", "are there {n}", "is {np} allowed", "are {n} allowed", "do we have {np}",
        "do i need {np}", "can i get {np}", "which {n} should i use", "which {n} do i use", "what happens to {np}",
        "what happens at {np}", "what happens after {np}", "what happens if {np} is late", "why do we need {np}",
    ]
    /// Frames for verb phrases in the base form ("submit an expense report").
    public static let verbPhraseFrames = [
        "how do i {vp}", "how can i {vp}", "how should i {vp}", "how do we {vp}", "how do you {vp}", "can i {vp}", "can we {vp}",
        "may i {vp}", "do i need to {vp}", "do we {vp}", "should i {vp}", "must i {vp}", "who can {vp}", "who may {vp}", "who must {vp}",
        "who should {vp}", "when do i {vp}", "when should i {vp}", "when must i {vp}", "when can i {vp}", "where do i {vp}",
        "what happens if i {vp}", "what do i need to {vp}", "what is the best way to {vp}", "i want to {vp}", "i need to {vp}",
        "am i allowed to {vp}", "is it possible to {vp}", "what should i do to {vp}", "how long do i have to {vp}",
    ]
    /// Frames for passive clauses: `{aux}` is or are, `{s}` the subject, `{pp}` the participle.
    public static let passiveFrames = [
        "how {aux} {s} {pp}", "when {aux} {s} {pp}", "why {aux} {s} {pp}", "where {aux} {s} {pp}", "{aux} {s} {pp}",
        "by whom {aux} {s} {pp}", "how long must {s} be {pp}", "can {s} be {pp}", "must {s} be {pp}", "when must {s} be {pp}",
    ]
    /// How questions start, whatever the knowledge bank.
    public static let questionStarts = [
        "what is", "what are", "what does", "what do", "what happens", "who", "who is", "who are", "when", "when is", "when are",
        "when does", "when do", "where", "where is", "why", "how", "how do i", "how does", "how are", "how is", "how long",
        "how much", "how many", "how often", "can i", "do i", "do we", "is there", "are there", "which", "should i",
    ]

    public struct Limits: Sendable {
        /// Noun phrases seen fewer times are not used; at most `nounPhrases` of each kind, the most frequent.
        public var minimumNounPhraseCount = 2
        public var nounPhrases = 800
        public var verbPhrases = 500

        public init() {}
    }

    /// The generated questions, then ``questionStarts`` and the builder's question phrasing, one per element (lower
    /// case, words separated by spaces).
    /// - Parameters:
    ///   - documents: titles and bodies (Markdown) of the knowledge bank.
    ///   - withheld: questions that must not be generated (compared word for word, ignoring case and punctuation).
    /// - Complexity: O(words of the documents + frames × phrases).
    public static func sentences(documents: [(title: String, body: String)], withheld: [String] = [], limits: Limits = Limits()) -> [String] {
        let mined = mine(documents)
        let nounPhrases = mined.nounPhrases.mostCommon(minimum: limits.minimumNounPhraseCount, limit: limits.nounPhrases)
        let bareNounPhrases = mined.bareNounPhrases.mostCommon(minimum: limits.minimumNounPhraseCount, limit: limits.nounPhrases)
        let verbPhrases = mined.verbPhrases.mostCommon(minimum: 1, limit: limits.verbPhrases)
        let passives = mined.passives.mostCommon(minimum: 1, limit: .max)
        var sentences: [String] = []
        for frame in nounPhraseFrames {
            if frame.contains("{np}") {
                sentences += nounPhrases.map { frame.replacing("{np}", with: $0) }
            } else {
                sentences += bareNounPhrases.map { frame.replacing("{n}", with: $0) }
            }
        }
        for frame in verbPhraseFrames { sentences += verbPhrases.map { frame.replacing("{vp}", with: $0) } }
        for passive in passives {
            let parts = passive.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            for frame in passiveFrames {
                sentences.append(
                    frame.replacing("{aux}", with: parts[0]).replacing("{s}", with: parts[1])
                        .replacing("{pp}", with: parts[2]))
            }
        }
        sentences += headingQuestions(mined.headings)
        sentences += questionStarts
        sentences += LanguageModelBuilder.questionPhrasing
        guard !withheld.isEmpty else { return sentences }
        let excluded = Set(withheld.map(normalized))
        return sentences.filter { !excluded.contains(normalized($0)) }
    }

    /// The words of a question joined by single spaces, for comparing questions.
    public static func normalized(_ question: String) -> String {
        LanguageModelText.words(question.lowercased()).joined(separator: " ")
    }

    /// Phrases counted in the order first seen, so that equal counts keep a stable order.
    public struct PhraseCounts {
        private var counts: [String: Int] = [:]
        private var order: [String] = []

        public mutating func add(_ phrase: String, _ count: Int = 1) {
            if counts[phrase] == nil { order.append(phrase) }
            counts[phrase, default: 0] += count
        }

        public func contains(_ phrase: String) -> Bool { counts[phrase] != nil }

        public func filter(_ keep: (String) -> Bool) -> PhraseCounts {
            var kept = PhraseCounts()
            for phrase in order where keep(phrase) { kept.add(phrase, counts[phrase]!) }
            return kept
        }

        /// The phrases seen at least `minimum` times, most frequent first (ties in the order first seen), at most `limit`.
        public func mostCommon(minimum: Int, limit: Int) -> [String] {
            let ranked = order.enumerated().sorted { left, right in
                let (a, b) = (counts[left.element]!, counts[right.element]!)
                return a != b ? a > b : left.offset < right.offset
            }
            return Array(ranked.map(\.element).filter { counts[$0]! >= minimum }.prefix(limit))
        }
    }

    public struct Mined {
        public var nounPhrases = PhraseCounts()
        public var bareNounPhrases = PhraseCounts()
        public var verbPhrases = PhraseCounts()
        /// `aux|subject|participle`.
        public var passives = PhraseCounts()
        public var headings: [String] = []
    }

    /// Noun phrases, verb phrases, passive clauses and headings of the documents.
    public static func mine(_ documents: [(title: String, body: String)]) -> Mined {
        var mined = Mined()
        for (title, body) in documents {
            mined.headings.append(title)
            for line in body.split(separator: "\n", omittingEmptySubsequences: false) {
                if let heading = line.prefixMatch(of: /#+\s+(.*)/) { mined.headings.append(String(heading.output.1)) }
                for bold in line.matches(of: /\*\*([^*]+)\*\*/) { mined.headings.append(String(bold.output.1)) }
            }
            for piece in LanguageModelText.pieces((title + "\n" + body).lowercased(), breaks: LanguageModelText.clauseBreaks) {
                mineClause(piece.filter { !$0.isEmpty }, into: &mined)
            }
        }
        // Verbs: words seen right after a modal or an adverb of one ("must submit", "can approve"), which keeps
        // "to Odoo" out.
        var verbs = Set<String>()
        for (_, body) in documents {
            let words = LanguageModelText.words(body.lowercased())
            for index in words.indices.dropLast() where verbCues.contains(words[index]) && !stopWords.contains(words[index + 1]) {
                verbs.insert(words[index + 1])
            }
        }
        mined.verbPhrases = mined.verbPhrases.filter { verbs.contains(String($0.prefix { $0 != " " })) }
        return mined
    }

    private static func mineClause(_ words: [String], into mined: inout Mined) {
        for (index, word) in words.enumerated() {
            // A determiner or preposition and up to three content words.
            if determiners.contains(word) || prepositions.contains(word) {
                var end = index + 1
                while end < words.count && end - index <= 3 && !stopWords.contains(words[end]) { end += 1 }
                if end > index + 1 {
                    let span = words[(index + 1)..<end].joined(separator: " ")
                    mined.bareNounPhrases.add(span)
                    if determiners.contains(word) { mined.nounPhrases.add(word + " " + span) }
                }
            }
            // A modal, perhaps an adverb, a verb, perhaps a determiner, and up to three content words.
            if modals.contains(word) {
                var verb = index + 1
                if verb < words.count && modalAdverbs.contains(words[verb]) { verb += 1 }
                if verb < words.count && !stopWords.contains(words[verb]) {
                    var object = verb + 1
                    if object < words.count && determiners.contains(words[object]) { object += 1 }
                    var end = object
                    while end < words.count && end - object < 3 && !stopWords.contains(words[end]) { end += 1 }
                    mined.verbPhrases.add(words[verb..<end].joined(separator: " "))
                    if end > verb + 1 { mined.verbPhrases.add(words[verb], 0) }
                }
            }
            // A subject of up to three content words (with its determiner), is or are, and a participle.
            if (word == "is" || word == "are") && index + 1 < words.count && index >= 1 && !stopWords.contains(words[index - 1]) {
                let participle = words[index + 1]
                if !stopWords.contains(participle)
                    && (participle.hasSuffix("ed") || participle.hasSuffix("en") || irregularParticiples.contains(participle))
                {
                    var begin = index - 1
                    while begin > 0 && index - begin < 3 && !stopWords.contains(words[begin - 1]) { begin -= 1 }
                    var subject = words[begin..<index].joined(separator: " ")
                    if begin > 0 && determiners.contains(words[begin - 1]) { subject = words[begin - 1] + " " + subject }
                    mined.passives.add("\(word)|\(subject)|\(participle)")
                }
            }
        }
    }

    /// Headings as questions: one that already is a question stays; "how to X" becomes "how do i X", "how can i X"
    /// and "how to X"; anything else H becomes "what is H", "what are H", "tell me about H", "what is the H" and H.
    public static func headingQuestions(_ headings: [String]) -> [String] {
        var questions: [String] = []
        for heading in headings {
            let words = LanguageModelText.words(heading.lowercased())
            guard let first = words.first else { continue }
            let text = words.joined(separator: " ")
            if questionWords.contains(first) {
                if first == "how" && words.count > 1 && words[1] == "to" {
                    let rest = words.dropFirst(2).joined(separator: " ")
                    questions += ["how do i \(rest)", "how can i \(rest)", "how to \(rest)"]
                } else {
                    questions.append(text)
                }
            } else {
                questions += ["what is \(text)", "what are \(text)", "tell me about \(text)", "what is the \(text)", text]
            }
        }
        return questions
    }
}
