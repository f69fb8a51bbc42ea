import Foundation

/// Builds the recogniser's language model and pronunciation dictionary from the knowledge bank, so finance terms
/// ("approval limit", "expense report", "accruals") are expected rather than misheard, and the bank's own names
/// ("Odoo", "TripPoint") can be heard at all.
///
/// Two trigram models with interpolated modified Kneser-Ney smoothing, over one vocabulary: one of the documents'
/// sentences (titles and bodies, plus generic question phrasing), one of questions generated from them
/// (``QuestionCorpus``). They are mixed, by default 0.3 documents and 0.7 questions (what is spoken is questions), into
/// one ARPA model, optionally interpolated with PocketSphinx's stock en-us model at the n-grams they list
/// (``stockWeight``). The dictionary is CMUdict with pronunciations for the bank's words it lacks
/// (``PronunciationDictionary/additions(for:phonemizer:)``), written for the model's words only.
public enum LanguageModelBuilder {
    /// How people ask things, so questions are likely even though the documents are statements. Generic on purpose:
    /// no question of the voice benchmark is in it.
    public static let questionPhrasing = [
        "what is the", "what are the", "what is our", "what is my", "how do i", "how can i", "how long do i have to", "how much is the",
        "how many", "who approves", "who is responsible for", "who do i contact about", "when is", "when are", "when do i", "where do i",
        "can i", "do i need", "is there a", "what happens if", "what should i do if", "tell me about the", "explain the", "what is the deadline for",
        "what is the limit for", "what is the policy on", "what is the rate for", "who signs", "which form do i use", "how often",
    ]
    /// The generated questions' share of the mixture; measured with `omnifin bench voice --question-weights`.
    public static let questionWeight = 0.7
    /// The most words a model takes (`OMNIFIN_STT_MAX_WORDS`): decoding slows down with the vocabulary, so a large
    /// bank keeps its most frequent words (and the question phrasing's); the rest end sentences like words without a
    /// pronunciation. Measured with `omnifin bench voice --max-words` over 100,000 documents (docs/voice.md).
    public static let maximumWords = 20_000
    /// The stock en-us model's share of the mixture (`OMNIFIN_STT_STOCK_WEIGHT`). Measured with
    /// `omnifin bench voice --stock-weights` (docs/voice.md): every share raises the word error rate on questions
    /// about the bank (0 → 0.250, 0.05 → 0.259, 0.1 → 0.265, 0.2 → 0.275), so it is off unless chosen.
    public static let stockWeight = 0.0

    /// A built model.
    public struct Output: Sendable {
        /// The ARPA model.
        public var arpa: String
        /// The dictionary file for the model's words.
        public var dictionary: String
        /// Pronunciations the knowledge bank's words needed.
        public var additions: [String: PronunciationDictionary.Addition]
        /// Words of the model (without `<s>` and `</s>`).
        public var words: Int
        /// Listed n-grams of each order.
        public var nGrams: [Int]
        public var documentSentences: Int
        public var questionSentences: Int
    }

    /// Builds the model and its dictionary.
    /// - Parameters:
    ///   - documents: titles and bodies of the knowledge bank.
    ///   - dictionary: the base dictionary (CMUdict).
    ///   - phonemizer: eSpeak NG, for words no rule pronounces; nil leaves them out of the model.
    ///   - questionWeight: the generated questions' share of the mixture (0 … 1).
    ///   - stock: a general model (PocketSphinx's `en-us.lm.bin`) and its share of the mixture, taken from the two
    ///     others; it is looked up at the n-grams they list, so it reshapes their probabilities without adding
    ///     n-grams or words. Nil or a share of 0 leaves it out.
    ///   - maximumWords: the vocabulary cap (see ``maximumWords``).
    ///   - withheld: questions never to generate (a benchmark's), see ``QuestionCorpus/sentences(documents:withheld:limits:)``.
    /// - Complexity: O(words of the documents and of the generated questions); about 1 s for the 35 demo documents.
    public static func build(
        documents: [(title: String, body: String)], dictionary base: PronunciationDictionary, phonemizer: PronunciationDictionary.Phonemizer?,
        questionWeight: Double = LanguageModelBuilder.questionWeight, stock: (model: SphinxLanguageModel, weight: Double)? = nil,
        maximumWords: Int = LanguageModelBuilder.maximumWords, withheld: [String] = []
    ) -> Output {
        let kept = frequentWords(documents, limit: maximumWords)
        let additions = base.additions(for: documents, phonemizer: phonemizer, only: kept)
        var dictionary = base
        dictionary.merge(additions.mapValues(\.pronunciations))
        // Question phrasing weighs as much as five documents' worth of mentions.
        let texts = documents.map { $0.title + "\n" + $0.body } + Array(repeating: questionPhrasing, count: 5).flatMap { $0 }
        let documentSentences = sentences(texts, dictionary: dictionary, only: kept)
        let weight = min(max(questionWeight, 0), 1)
        let questionSentences =
            weight == 0 ? [] : sentences(QuestionCorpus.sentences(documents: documents, withheld: withheld), dictionary: dictionary, only: kept)
        var vocabulary = NGramVocabulary()
        let documentIDs = documentSentences.map { $0.map { vocabulary.id($0) } }
        let questionIDs = questionSentences.map { $0.map { vocabulary.id($0) } }
        var components = [(model: NGramModel.kneserNey(sentences: documentIDs, vocabularySize: vocabulary.count), weight: 1 - weight)]
        if !questionIDs.isEmpty {
            components.append((NGramModel.kneserNey(sentences: questionIDs, vocabularySize: vocabulary.count), weight))
        }
        if let stock, stock.weight > 0 {
            let share = min(stock.weight, 1)
            var keys = [Set<UInt64>](repeating: [], count: 3)
            for (component, _) in components {
                for n in 1...component.order { keys[n - 1].formUnion(component.probabilities[n - 1].keys) }
            }
            components = components.map { ($0.model, $0.weight * (1 - share)) }
            components.append((NGramModel.probabilities(of: stock.model, at: keys, vocabulary: vocabulary), share))
        }
        let model = components.count == 1 ? components[0].model : NGramModel.mixture(components, vocabularySize: vocabulary.count)
        let words = Set(vocabulary.words.dropFirst(2))
        return Output(
            arpa: model.arpa(vocabulary), dictionary: dictionary.text(for: words), additions: additions, words: words.count, nGrams: model.counts,
            documentSentences: documentSentences.count, questionSentences: questionSentences.count)
    }

    /// The `limit` most frequent words of the documents (ties by code point) and the question phrasing's, or nil
    /// when the documents have no more than `limit` words.
    /// - Complexity: O(words of the documents + distinct words × log distinct words).
    public static func frequentWords(_ documents: [(title: String, body: String)], limit: Int) -> Set<String>? {
        var counts: [String: Int] = [:]
        for (title, body) in documents {
            for written in LanguageModelText.words(title + "\n" + body) { counts[written.lowercased(), default: 0] += 1 }
        }
        guard counts.count > limit else { return nil }
        let ranked = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        return Set(ranked.prefix(limit).map(\.key)).union(questionPhrasing.flatMap { $0.split(separator: " ").map(String.init) })
    }

    /// Sentences as word lists: lower case, split at punctuation and numbers; a word the dictionary lacks, or that
    /// is not among `only`, ends the sentence too (the model cannot join the words around it).
    public static func sentences(_ texts: [String], dictionary: PronunciationDictionary, only: Set<String>? = nil) -> [[String]] {
        var result: [[String]] = []
        for text in texts {
            for piece in LanguageModelText.pieces(text.lowercased(), breaks: LanguageModelText.sentenceBreaks) {
                var current: [String] = []
                for word in piece {
                    if dictionary.contains(word), only?.contains(word) ?? true {
                        current.append(word)
                    } else if !current.isEmpty {
                        result.append(current)
                        current = []
                    }
                }
                if !current.isEmpty { result.append(current) }
            }
        }
        return result
    }
}
