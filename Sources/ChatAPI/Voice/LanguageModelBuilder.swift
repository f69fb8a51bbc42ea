import Foundation

/// Builds the recogniser's language model and pronunciation dictionary from the knowledge bank, so finance terms
/// ("approval limit", "expense report", "accruals") are expected rather than misheard, and the bank's own names
/// ("Odoo", "TripPoint") can be heard at all.
///
/// Two trigram models with interpolated modified Kneser-Ney smoothing, over one vocabulary: one of the documents'
/// sentences (titles and bodies, plus generic question phrasing), one of questions generated from them
/// (``QuestionCorpus``). They are mixed, by default 0.3 documents and 0.7 questions (what is spoken is questions), into
/// one ARPA model. The dictionary is CMUdict with pronunciations for the bank's words it lacks
/// (``PronunciationDictionary/additions(for:phonemizer:)``), written for the model's words only.
enum LanguageModelBuilder {
    /// How people ask things, so questions are likely even though the documents are statements. Generic on purpose:
    /// no question of the voice benchmark is in it.
    static let questionPhrasing = [
        "what is the", "what are the", "what is our", "what is my", "how do i", "how can i", "how long do i have to", "how much is the",
        "how many", "who approves", "who is responsible for", "who do i contact about", "when is", "when are", "when do i", "where do i",
        "can i", "do i need", "is there a", "what happens if", "what should i do if", "tell me about the", "explain the", "what is the deadline for",
        "what is the limit for", "what is the policy on", "what is the rate for", "who signs", "which form do i use", "how often",
    ]
    /// The generated questions' share of the mixture; measured with `omnifin bench voice --question-weights`.
    static let questionWeight = 0.7

    /// A built model.
    struct Output: Sendable {
        /// The ARPA model.
        var arpa: String
        /// The dictionary file for the model's words.
        var dictionary: String
        /// Pronunciations the knowledge bank's words needed.
        var additions: [String: PronunciationDictionary.Addition]
        /// Words of the model (without `<s>` and `</s>`).
        var words: Int
        /// Listed n-grams of each order.
        var nGrams: [Int]
        var documentSentences: Int
        var questionSentences: Int
    }

    /// Builds the model and its dictionary.
    /// - Parameters:
    ///   - documents: titles and bodies of the knowledge bank.
    ///   - dictionary: the base dictionary (CMUdict).
    ///   - phonemizer: eSpeak NG, for words no rule pronounces; nil leaves them out of the model.
    ///   - questionWeight: the generated questions' share of the mixture (0 … 1).
    ///   - withheld: questions never to generate (a benchmark's), see ``QuestionCorpus/sentences(documents:withheld:limits:)``.
    /// - Complexity: O(words of the documents and of the generated questions); about 1 s for the 35 demo documents.
    static func build(
        documents: [(title: String, body: String)], dictionary base: PronunciationDictionary, phonemizer: PronunciationDictionary.Phonemizer?,
        questionWeight: Double = LanguageModelBuilder.questionWeight, withheld: [String] = []
    ) -> Output {
        let additions = base.additions(for: documents, phonemizer: phonemizer)
        var dictionary = base
        dictionary.merge(additions.mapValues(\.pronunciations))
        // Question phrasing weighs as much as five documents' worth of mentions.
        let texts = documents.map { $0.title + "\n" + $0.body } + Array(repeating: questionPhrasing, count: 5).flatMap { $0 }
        let documentSentences = sentences(texts, dictionary: dictionary)
        let weight = min(max(questionWeight, 0), 1)
        let questionSentences = weight == 0 ? [] : sentences(QuestionCorpus.sentences(documents: documents, withheld: withheld), dictionary: dictionary)
        var vocabulary = NGramVocabulary()
        let documentIDs = documentSentences.map { $0.map { vocabulary.id($0) } }
        let questionIDs = questionSentences.map { $0.map { vocabulary.id($0) } }
        let model: NGramModel
        if questionIDs.isEmpty {
            model = .kneserNey(sentences: documentIDs, vocabularySize: vocabulary.count)
        } else {
            let documentModel = NGramModel.kneserNey(sentences: documentIDs, vocabularySize: vocabulary.count)
            let questionModel = NGramModel.kneserNey(sentences: questionIDs, vocabularySize: vocabulary.count)
            model = .mixture([(documentModel, 1 - weight), (questionModel, weight)], vocabularySize: vocabulary.count)
        }
        let words = Set(vocabulary.words.dropFirst(2))
        return Output(
            arpa: model.arpa(vocabulary), dictionary: dictionary.text(for: words), additions: additions, words: words.count, nGrams: model.counts,
            documentSentences: documentSentences.count, questionSentences: questionSentences.count)
    }

    /// Sentences as word lists: lower case, split at punctuation and numbers; a word the dictionary lacks ends the
    /// sentence too (the model cannot join the words around it).
    static func sentences(_ texts: [String], dictionary: PronunciationDictionary) -> [[String]] {
        var result: [[String]] = []
        for text in texts {
            for piece in LanguageModelText.pieces(text.lowercased(), breaks: LanguageModelText.sentenceBreaks) {
                var current: [String] = []
                for word in piece {
                    if dictionary.contains(word) {
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
