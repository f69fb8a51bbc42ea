import Foundation
import Ingest
import Retrieval
import Testing
@testable import Voice

/// The demo knowledge bank (`corpora/`) and the voice benchmark's questions, read as `omnifin bench voice` reads them.
enum DemoKnowledge {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func documents() throws -> [(title: String, body: String)] {
        let folder = root.appendingPathComponent("corpora")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().filter { $0.hasSuffix(".md") && $0 != "README.md" }
        return try names.map { name in
            let document = try MarkdownReader.document(try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8), name: name, source: "corpora")
            return (document.title, document.body)
        }
    }

    static func benchmarkQuestions() throws -> [String] {
        try String(contentsOf: root.appendingPathComponent("Benchmarks/voice/questions.txt"), encoding: .utf8).split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    static let phonemizer: PronunciationDictionary.Phonemizer = { texts in texts.map { try! SpeechSynthesizer.phonemes([$0])[0] } }
}

/// An ARPA file read back: log10 probabilities and backoff weights by n-gram (words joined by spaces).
struct ARPAModel {
    var order = 0
    var declared: [Int] = []
    var probabilities: [String: Double] = [:]
    var backoffs: [String: Double] = [:]
    var unigrams: [String] = []

    init(_ text: String) throws {
        var n = 0
        for line in text.split(separator: "\n") {
            if line.hasPrefix("ngram ") {
                declared.append(Int(line.split(separator: "=")[1])!)
            } else if line.hasPrefix("\\") && line.hasSuffix("-grams:") {
                n = Int(line.dropFirst().prefix { $0.isNumber })!
                order = max(order, n)
            } else if n > 0 && !line.hasPrefix("\\") {
                let fields = line.split(separator: " ").map(String.init)
                try #require(fields.count == n + 1 || fields.count == n + 2, "\(line)")
                let gram = fields[1...n].joined(separator: " ")
                probabilities[gram] = Double(fields[0])!
                if fields.count == n + 2 { backoffs[gram] = Double(fields[n + 1])! }
                if n == 1 { unigrams.append(gram) }
            }
        }
    }

    /// P(word | history) with backoff, as a decoder computes it.
    func probability(_ words: [String]) -> Double {
        if let log = probabilities[words.joined(separator: " ")] { return pow(10, log) }
        if words.count == 1 { return 0 }
        let weight = backoffs[words.dropLast().joined(separator: " ")].map { pow(10, $0) } ?? 1
        return weight * probability(Array(words.dropFirst()))
    }
}

@Suite("Voice language model")
struct VoiceLanguageModelTests {
    /// Σ P(w | h) over every word and `</s>`.
    static func total(_ model: NGramModel, history: [Int32], vocabularySize: Int) -> Double {
        (1..<Int32(vocabularySize)).reduce(0.0) { sum, word in
            sum + model.probability(NGramKey.make(history + [word]), order: history.count + 1)
        }
    }

    @Test("modified Kneser-Ney and the mixture sum to 1 over the vocabulary for every history, seen or not")
    func smoothingSumsToOne() {
        let texts = [
            "the cfo approves invoices above the limit", "the controller approves invoices below the limit", "who approves invoices",
            "who approves the budget", "the budget is approved by the board", "invoices are paid on friday", "invoices are approved before they are paid",
            "what is the limit", "what is the budget", "the limit is set by the board", "the board sets the limit",
        ]
        var vocabulary = NGramVocabulary()
        let sentences = texts.map { $0.split(separator: " ").map { vocabulary.id(String($0)) } }
        _ = vocabulary.id("unseen")
        let documents = NGramModel.kneserNey(sentences: Array(sentences.prefix(6)), vocabularySize: vocabulary.count)
        let questions = NGramModel.kneserNey(sentences: Array(sentences.suffix(6)), vocabularySize: vocabulary.count)
        let mixed = NGramModel.mixture([(documents, 0.3), (questions, 0.7)], vocabularySize: vocabulary.count)
        for model in [documents, questions, mixed] {
            #expect(model.probabilities[0][UInt64(NGramVocabulary.start)] == 0)
            var histories: [[Int32]] = [[]]
            for n in 2...model.order { histories += model.probabilities[n - 1].keys.map { Array(NGramKey.ids($0, order: n).dropLast()) } }
            // Histories nobody saw back off all the way.
            histories += [[vocabulary.id(of: "unseen")!], [vocabulary.id(of: "unseen")!, vocabulary.id(of: "the")!]]
            for history in histories {
                let sum = Self.total(model, history: history, vocabularySize: vocabulary.count)
                #expect(abs(sum - 1) < 1e-9, "history \(history.map { vocabulary.words[Int($0)] }) sums to \(sum)")
            }
        }
        // The unseen word keeps some probability; a seen continuation beats an unseen one.
        let the = vocabulary.id(of: "the")!
        #expect(mixed.probability(UInt64(vocabulary.id(of: "unseen")!), order: 1) > 0)
        #expect(
            mixed.probability(NGramKey.make([the, vocabulary.id(of: "limit")!]), order: 2)
                > mixed.probability(NGramKey.make([the, vocabulary.id(of: "friday")!]), order: 2))
    }

    @Test("the discounts follow the counts of counts, within [0.1, k]")
    func discounts() {
        // n1 = 10, n2 = 4, n3 = 2, n4 = 1: Y = 10 / 18.
        let counts = Array(repeating: 1, count: 10) + Array(repeating: 2, count: 4) + [3, 3, 4, 7]
        let (d1, d2, d3) = NGramModel.discounts(counts, minimum: 0.1)
        let y = 10.0 / 18
        #expect(abs(d1 - (1 - 2 * y * 4 / 10)) < 1e-12 && abs(d2 - (2 - 3 * y * 2 / 4)) < 1e-12 && abs(d3 - (3 - 4 * y * 1 / 2)) < 1e-12)
        #expect(NGramModel.discounts([1, 1, 2], minimum: 0.1) == (0.5, 1.0, 1.5))
    }

    @Test("the knowledge bank's model, read back from its ARPA text, sums to 1 for its histories and its words are in the dictionary")
    func bankModel() throws {
        let documents = try DemoKnowledge.documents()
        let base = try PronunciationDictionary(contentsOfFile: SpeechRecognizer.stockDictionary)
        let output = LanguageModelBuilder.build(documents: documents, dictionary: base, phonemizer: DemoKnowledge.phonemizer)
        let model = try ARPAModel(output.arpa)
        #expect(model.order == 3 && model.declared == output.nGrams && model.declared[1] > 10_000 && model.declared[2] > 30_000, "\(model.declared)")
        let words = model.unigrams.filter { $0 != "<s>" }
        #expect(words.count == output.words + 1)
        // Every history of the model, thinned to a deterministic sample (the sum runs over all words).
        let histories = model.backoffs.keys.sorted().enumerated().filter { $0.offset % 97 == 0 }.map { $0.element.split(separator: " ").map(String.init) }
        #expect(histories.count > 100)
        for history in histories + [[]] {
            let sum = words.reduce(0.0) { $0 + model.probability(history + [$1]) }
            // Five decimals of log10 per value.
            #expect(abs(sum - 1) < 1e-3, "history \(history) sums to \(sum)")
        }
        // The dictionary has exactly the model's words, with the pronunciations the bank needed.
        let dictionary = PronunciationDictionary(pronunciations: Dictionary(grouping: output.dictionary.split(separator: "\n"), by: { line in
            String(line.prefix { $0 != " " && $0 != "(" })
        }).mapValues { $0.map { String($0.drop { $0 != " " }.dropFirst()) } })
        #expect(Set(dictionary.pronunciations.keys) == Set(words.filter { $0 != "</s>" }))
        #expect(dictionary["odoo"] == ["OW D UW"] && dictionary["trippoint"] == ["T R IH P P OY N T"], "\(dictionary["odoo"] ?? [])")
    }

    @Test("the stock en-us model, read through sphinxbase, is interpolated at the bank's n-grams and the result still sums to 1")
    func stockInterpolation() throws {
        let stock = try SphinxLanguageModel(path: SpeechRecognizer.stockLanguageModel)
        #expect(stock.order == 3)
        var vocabulary = NGramVocabulary()
        let (what, isID, the, odoo) = (vocabulary.id("what"), vocabulary.id("is"), vocabulary.id("the"), vocabulary.id("odoo"))
        let ids = stock.ids(vocabulary)
        #expect(ids[Int(NGramVocabulary.start)] >= 0 && ids[Int(what)] >= 0 && ids[Int(odoo)] == -1)
        // A trigram model's conditional probabilities sum to 1 after any history; an unknown word has none.
        let pThe = stock.probability([ids[Int(what)], ids[Int(isID)], ids[Int(the)]])
        #expect(pThe > 0.01 && pThe < 0.5, "P(the | what is) = \(pThe)")
        #expect(stock.probability([ids[Int(what)], ids[Int(isID)], -1]) == 0)
        #expect(throws: SphinxLanguageModel.Failure.self) { try SphinxLanguageModel(path: "/nonexistent/model.lm.bin") }

        let documents = try DemoKnowledge.documents()
        let base = try PronunciationDictionary(contentsOfFile: SpeechRecognizer.stockDictionary)
        let alone = try ARPAModel(LanguageModelBuilder.build(documents: documents, dictionary: base, phonemizer: DemoKnowledge.phonemizer).arpa)
        let output = LanguageModelBuilder.build(documents: documents, dictionary: base, phonemizer: DemoKnowledge.phonemizer, stock: (stock, 0.5))
        let mixed = try ARPAModel(output.arpa)
        // The same n-grams and words: the stock model reshapes the bank's probabilities, it adds nothing.
        #expect(mixed.declared == alone.declared && Set(mixed.probabilities.keys) == Set(alone.probabilities.keys))
        let words = mixed.unigrams.filter { $0 != "<s>" }
        let histories = mixed.backoffs.keys.sorted().enumerated().filter { $0.offset % 97 == 0 }.map { $0.element.split(separator: " ").map(String.init) }
        for history in histories + [[]] {
            let sum = words.reduce(0.0) { $0 + mixed.probability(history + [$1]) }
            #expect(abs(sum - 1) < 1e-3, "history \(history) sums to \(sum)")
        }
        // A listed n-gram: half the bank's probability plus half the stock's.
        #expect(alone.probabilities["what is"] != nil)
        let expected = 0.5 * alone.probability(["what", "is"]) + 0.5 * stock.probability([ids[Int(what)], ids[Int(isID)]])
        #expect(abs(mixed.probability(["what", "is"]) / expected - 1) < 1e-3, "\(mixed.probability(["what", "is"])) vs \(expected)")
        // A word the stock model does not know loses probability to the words it knows.
        #expect(mixed.probability(["odoo"]) < alone.probability(["odoo"]) && mixed.probability(["the"]) > alone.probability(["the"]))
    }

    @Test("a bank with more words than the cap keeps its most frequent ones and the question phrasing's")
    func vocabularyCap() throws {
        let documents = try DemoKnowledge.documents()
        let base = try PronunciationDictionary(contentsOfFile: SpeechRecognizer.stockDictionary)
        let full = LanguageModelBuilder.build(documents: documents, dictionary: base, phonemizer: DemoKnowledge.phonemizer)
        #expect(LanguageModelBuilder.frequentWords(documents, limit: 100_000) == nil)
        let kept = try #require(LanguageModelBuilder.frequentWords(documents, limit: 300))
        let phrasing = Set(LanguageModelBuilder.questionPhrasing.flatMap { $0.split(separator: " ").map(String.init) })
        #expect(kept.isSuperset(of: phrasing) && kept.count <= 300 + phrasing.count)
        // "Odoo" is written 128 times in the demo documents, "segregation" 8.
        #expect(kept.contains("invoices") && kept.contains("odoo") && !kept.contains("segregation"))
        let capped = LanguageModelBuilder.build(documents: documents, dictionary: base, phonemizer: DemoKnowledge.phonemizer, maximumWords: 300)
        let model = try ARPAModel(capped.arpa)
        let words = Set(model.unigrams).subtracting(["<s>", "</s>"])
        #expect(capped.words == words.count && words.isSubset(of: kept) && capped.words < full.words / 3, "\(capped.words) of \(full.words)")
        // Fewer words to pronounce too, and the model is still a distribution.
        #expect(capped.additions.count < full.additions.count && capped.additions["odoo"] != nil)
        let sum = model.unigrams.filter { $0 != "<s>" }.reduce(0.0) { $0 + model.probability([$1]) }
        #expect(abs(sum - 1) < 1e-3)
    }

    @Test("numbers, punctuation and words the dictionary lacks end sentences")
    func numbersSplitSentences() {
        let dictionary = PronunciationDictionary(
            pronunciations: Dictionary(uniqueKeysWithValues: ["invoices", "up", "to", "eur", "need", "one", "approver", "vendor's", "bank"].map { ($0, ["AH"]) }))
        let sentences = LanguageModelBuilder.sentences(
            ["Invoices up to 10,000 EUR need one approver.", "Up to 2.5% of invoices: one approver", "the vendor's bank 'Odoo' approver", "invoices_2 up"],
            dictionary: dictionary)
        #expect(
            sentences == [
                ["invoices", "up", "to"], ["eur", "need", "one", "approver"], ["up", "to"], ["invoices"], ["one", "approver"], ["vendor's", "bank"],
                ["approver"], ["invoices"], ["up"],
            ])
        #expect(LanguageModelText.words("It's 'Odoo's' VAT-ID, 3rd") == ["It's", "Odoo's", "VAT", "ID", "rd"])
    }

    @Test("the question generator only reads the documents, and with the benchmark's questions withheld it produces none of them")
    func questionsWithoutBenchmark() throws {
        let documents = try DemoKnowledge.documents()
        let benchmark = try DemoKnowledge.benchmarkQuestions()
        #expect(benchmark.count == 52)
        let normalized = Set(benchmark.map(QuestionCorpus.normalized))
        // The frames and fixed phrases hold no benchmark question.
        let fixed = QuestionCorpus.nounPhraseFrames + QuestionCorpus.verbPhraseFrames + QuestionCorpus.passiveFrames + QuestionCorpus.questionStarts
            + LanguageModelBuilder.questionPhrasing
        #expect(fixed.filter { normalized.contains(QuestionCorpus.normalized($0)) }.isEmpty)
        let blind = QuestionCorpus.sentences(documents: documents)
        let withheld = QuestionCorpus.sentences(documents: documents, withheld: benchmark)
        let leaked = withheld.filter { normalized.contains(QuestionCorpus.normalized($0)) }
        #expect(leaked.isEmpty, "\(leaked)")
        // Withholding removes exactly the benchmark's questions, nothing else.
        #expect(blind.filter { !normalized.contains(QuestionCorpus.normalized($0)) } == withheld)
        #expect(withheld.count > 30_000, "\(withheld.count)")
        // What the generator is for: questions in the documents' terms.
        let generated = Set(withheld)
        for question in ["who approves a purchase order", "how do i request a travel advance", "what is the invoice approval policy"] {
            #expect(generated.contains(question), "\(question)")
        }
    }

    @Test("eSpeak NG's phonemes map to the model's ARPAbet, and the bank's missing words get pronunciations by the rules")
    func pronunciations() throws {
        #expect(ESpeakPhonemes.arpabet("'oU_d_u:") == ["OW", "D", "UW"])
        #expect(ESpeakPhonemes.arpabet("t_r_'I_p p_'OI_n_t") == ["T", "R", "IH", "P", "P", "OY", "N", "T"])
        #expect(ESpeakPhonemes.arpabet("p_r_'oU_k_j_U@_r_,I_s_t") == ["P", "R", "OW", "K", "Y", "UH", "R", "IH", "S", "T"])
        #expect(ESpeakPhonemes.arpabet("'E_k_s r_I#_tS_n_'V_N") == ["EH", "K", "S", "R", "IH", "CH", "N", "AH", "NG"])
        #expect(ESpeakPhonemes.arpabet("q_Q") == nil)
        let phonemes = try SpeechSynthesizer.phonemes(["Odoo", "capex", "approvers"])
        #expect(phonemes == ["'oU_d_u:", "k_'eI_p_E_k_s", "a#_p_r_'u:_v_3_z"])

        let base = try PronunciationDictionary(contentsOfFile: SpeechRecognizer.stockDictionary)
        let text = """
            We book invoices in Odoo; receipts go to TripPoint. The helpdesk answers. Capitalisation of payslips and the CFO's \
            approvers. Odoo Odoo. VAT is 19%. The asset's value.
            """
        let added = base.additions(for: [("Policy", text)], phonemizer: DemoKnowledge.phonemizer)
        let expected: [String: ([String], PronunciationDictionary.Source?)] = [
            "odoo": (["OW D UW"], .espeak), "trippoint": (["T R IH P P OY N T"], .compound), "helpdesk": (["HH EH L P D EH S K"], .compound),
            "capitalisation": (["K AE P IH T AH L IH Z EY SH AH N"], .spelling), "payslips": (["P EY S L IH P S"], .compound),
            "cfo's": (["S IY EH F OW Z"], .plural), "approvers": (["AH P R UW V ER Z"], .espeak), "asset's": (["AE S EH T S"], .plural),
            "vat": (["V AE T", "V IY EY T IY"], nil),
        ]
        for (word, (pronunciations, source)) in expected {
            #expect(added[word]?.pronunciations == pronunciations && added[word]?.source == source, "\(word): \(String(describing: added[word]))")
        }
        #expect(added["vat"]?.spelledOut == true)
        #expect(Set(added.keys) == Set(expected.keys), "\(added.keys.sorted())")
        // Without eSpeak NG, only the rules that need no phonemes apply.
        let rulesOnly = base.additions(for: [("Policy", text)], phonemizer: nil)
        #expect(Set(rulesOnly.keys) == ["capitalisation", "cfo's", "asset's", "vat"], "\(rulesOnly.keys.sorted())")
    }
}
