import Foundation
import Glibc
public import Retrieval
import Storage
import Voice

/// Word error rate and real-time factors of the built-in speech tools on spoken questions: each question is
/// synthesised with eSpeak NG in several voices and speeds, and transcribed by PocketSphinx with the stock language
/// model and with models built from the knowledge text (at several mixture weights, language weights and decoder
/// options).
public enum VoiceBenchmark {
    public struct Configuration: Sendable, Codable {
        public var model: String
        /// The generated questions' share of the knowledge bank's model (nil for the stock model).
        public var questionWeight: Double?
        /// The stock model's share of the knowledge bank's model (nil for the stock model alone).
        public var stockWeight: Double?
        public var languageWeight: String
        /// PocketSphinx options besides the models and the language weight.
        public var options: String
        public var wordErrorRate: Double
        /// On the questions of odd lines (1st, 3rd, …) and of even lines: tune on one half, check on the other.
        public var wordErrorRateOddLines: Double
        public var wordErrorRateEvenLines: Double
        public var sentencesExact: Double
        /// Wall-clock seconds per second of speech for one decoder (two decode in parallel on the two cores).
        public var realTimeFactor: Double
        /// Processor seconds of decoding per second of speech: the same, but not inflated by other work on the machine.
        public var cpuRealTimeFactor: Double
        /// The worst transcripts, "question → transcript", worst first (`listWorst` of them).
        public var worst: [String]
    }

    public struct Report: Sendable, Codable {
        public var utterances: Int
        public var audioSeconds: Double
        public var ttsRealTimeFactor: Double
        public var configurations: [Configuration]
        /// Questions found word for word in the documents (reported, not excluded).
        public var questionsInText: Int
        /// Questions the question generator produces from the documents word for word; withheld from the model
        /// unless `withholdQuestions` was false.
        public var questionsGenerated: Int
        public var questionsWithheld: Bool
        /// Words of the adapted model and the pronunciations added for the documents' words.
        public var modelWords: Int
        public var addedPronunciations: Int
        /// Seconds to build the adapted model and dictionary (the first question weight; debug builds are slower).
        public var buildSeconds: Double
    }

    /// - Parameters:
    ///   - questions: what is spoken (never added to the adaptation text).
    ///   - documents: the knowledge bank the adapted model is built from.
    ///   - voices: eSpeak NG voices, e.g. `en-us`, `en-us+f3`.
    ///   - speeds: words per minute.
    ///   - weights: language weights to try with the adapted model (the stock model runs at 6.5).
    ///   - questionWeights: shares of the generated questions in the adapted model, one model each (nil: the default).
    ///   - stockWeights: shares of the stock model in the adapted model, one model each with every question weight (nil: the default).
    ///   - maximumWords: the adapted models' vocabulary cap (nil: the default).
    ///   - optionSets: PocketSphinx options to try, each set for every model (nil: `OMNIFIN_STT_OPTIONS` or the defaults).
    ///   - stock: also measure the stock language model (with the first option set).
    ///   - withholdQuestions: keep the questions out of the generated questions (the generator does not read them, but
    ///     produces some word for word from the documents' headings and phrases).
    ///   - modelDirectory: where to keep the adapted models and dictionaries (a temporary folder when nil).
    public static func run(
        questions: [String], documents: [DocumentInput], voices: [String], speeds: [Int], weights: [String],
        questionWeights: [Double]? = nil, stockWeights: [Double]? = nil, maximumWords: Int? = nil, optionSets: [[String]?] = [nil], stock: Bool = true,
        withholdQuestions: Bool = true, modelDirectory: String? = nil, listWorst: Int = 5, progress: @Sendable (String) -> Void = { _ in }
    ) async throws -> Report {
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-bench-voice-\(UUID().uuidString)")
        let directory = modelDirectory.map { URL(fileURLWithPath: $0) } ?? temporary
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { if modelDirectory == nil { try? FileManager.default.removeItem(at: directory) } }
        let texts = documents.map { (title: $0.title, body: $0.body) }
        let base = try PronunciationDictionary(contentsOfFile: SpeechRecognizer.stockDictionary)
        let phonemizer = SpeechSynthesizer.phonemizer
        let withheld = withholdQuestions ? questions : []
        var adapted: [(questionWeight: Double, stockWeight: Double, model: String, dictionary: String)] = []
        var built: LanguageModelBuilder.Output?
        var buildSeconds = 0.0
        let stockShares = stockWeights ?? [LanguageModelBuilder.stockWeight]
        let stockModel = stockShares.contains { $0 > 0 } ? try SphinxLanguageModel(path: SpeechRecognizer.stockLanguageModel) : nil
        for questionWeight in questionWeights ?? [LanguageModelBuilder.questionWeight] {
            for stockWeight in stockShares {
                let started = ContinuousClock.now
                let output = LanguageModelBuilder.build(
                    documents: texts, dictionary: base, phonemizer: phonemizer, questionWeight: questionWeight,
                    stock: stockModel.map { ($0, stockWeight) }, maximumWords: maximumWords ?? LanguageModelBuilder.maximumWords, withheld: withheld)
                if built == nil {
                    built = output
                    buildSeconds = (ContinuousClock.now - started).inSeconds
                }
                let name = "knowledge-\(questionWeight)-\(stockWeight)"
                let model = directory.appendingPathComponent(name + ".lm").path
                let dictionary = directory.appendingPathComponent(name + ".dict").path
                try output.arpa.write(toFile: model, atomically: true, encoding: .utf8)
                try output.dictionary.write(toFile: dictionary, atomically: true, encoding: .utf8)
                adapted.append((questionWeight, stockWeight, model, dictionary))
                progress(
                    "built the model with question weight \(questionWeight), stock weight \(stockWeight): \(output.words) words, n-grams \(output.nGrams.map(String.init).joined(separator: "/")), \(output.additions.count) pronunciations added"
                )
            }
        }
        let lowerText = texts.map { $0.title + "\n" + $0.body }.joined(separator: " ").lowercased()
        let generated = Set(QuestionCorpus.sentences(documents: texts).map(QuestionCorpus.normalized))

        var utterances: [(text: String, line: Int, audio: WAVAudio)] = []
        var ttsSeconds = 0.0
        var audioSeconds = 0.0
        for voice in voices {
            for speed in speeds {
                let synthesizer = SpeechSynthesizer(voice: voice, wordsPerMinute: speed)
                for (line, question) in questions.enumerated() {
                    let started = ContinuousClock.now
                    let speech = try await synthesizer.speak(question)
                    ttsSeconds += (ContinuousClock.now - started).inSeconds
                    audioSeconds += speech.seconds
                    utterances.append((question, line, speech.resampled(to: 16_000)))
                }
                progress("synthesised \(questions.count) questions with \(voice) at \(speed) wpm")
            }
        }
        var runs:
            [(name: String, questionWeight: Double?, stockWeight: Double?, model: String, dictionary: String, weight: String, options: [String]?)] = []
        for (index, options) in optionSets.enumerated() {
            if stock && index == 0 {
                runs.append(("stock en-us.lm.bin", nil, nil, SpeechRecognizer.stockLanguageModel, SpeechRecognizer.stockDictionary, "6.5", options))
            }
            for model in adapted {
                for weight in weights {
                    runs.append(("knowledge bank", model.questionWeight, model.stockWeight, model.model, model.dictionary, weight, options))
                }
            }
        }
        var configurations: [Configuration] = []
        for run in runs {
            let recognizer = SpeechRecognizer(
                languageModel: run.model, dictionary: run.dictionary, maximumDecoders: 2, languageWeight: run.weight, options: run.options)
            let started = ContinuousClock.now
            let startedCPU = processorSeconds()
            let heard = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                var results = [String](repeating: "", count: utterances.count)
                var next = 0
                func launch() {
                    let index = next
                    let samples = utterances[index].audio.samples
                    group.addTask { (index, try await recognizer.transcribe(samples)) }
                    next += 1
                }
                for _ in 0..<min(2, utterances.count) { launch() }
                while let (index, text) = try await group.next() {
                    results[index] = text
                    if next < utterances.count { launch() }
                }
                return results
            }
            let seconds = (ContinuousClock.now - started).inSeconds
            let cpuSeconds = processorSeconds() - startedCPU
            // Errors and reference words: all, odd lines (index 0, 2, …), even lines.
            var errors = [0.0, 0.0, 0.0]
            var words = [0, 0, 0]
            var exact = 0
            var scored: [(Double, String)] = []
            for (index, utterance) in utterances.enumerated() {
                let reference = WordErrorRate.words(utterance.text).count
                let rate = WordErrorRate.of(heard[index], reference: utterance.text)
                for half in [0, utterance.line % 2 == 0 ? 1 : 2] {
                    errors[half] += rate * Double(reference)
                    words[half] += reference
                }
                if rate == 0 { exact += 1 }
                scored.append((rate, "\(utterance.text) → \(heard[index])"))
            }
            func rate(_ half: Int) -> Double { errors[half] / Double(max(1, words[half])) }
            configurations.append(
                Configuration(
                    model: run.name, questionWeight: run.questionWeight, stockWeight: run.stockWeight, languageWeight: run.weight, options: recognizer.options.joined(separator: " "),
                    wordErrorRate: rate(0), wordErrorRateOddLines: rate(1), wordErrorRateEvenLines: rate(2),
                    sentencesExact: Double(exact) / Double(utterances.count),
                    // Two decoders in parallel on two cores: the factor is per decoder, as one request sees it.
                    realTimeFactor: seconds * 2 / audioSeconds, cpuRealTimeFactor: cpuSeconds / audioSeconds, worst: scored.sorted { $0.0 > $1.0 }.prefix(listWorst).map(\.1)))
            let last = configurations.last!
            progress(
                "\(run.name)\(run.questionWeight.map { " (questions \($0))" } ?? "")\(run.stockWeight.map { " (stock \($0))" } ?? "") at weight \(run.weight) with \(last.options): WER \(String(format: "%.3f", last.wordErrorRate)), real-time factor \(String(format: "%.3f", last.realTimeFactor)) (CPU \(String(format: "%.3f", last.cpuRealTimeFactor)))"
            )
        }
        return Report(
            utterances: utterances.count, audioSeconds: audioSeconds, ttsRealTimeFactor: ttsSeconds / audioSeconds, configurations: configurations,
            questionsInText: questions.filter { lowerText.contains($0.lowercased()) }.count,
            questionsGenerated: questions.filter { generated.contains(QuestionCorpus.normalized($0)) }.count, questionsWithheld: withholdQuestions,
            modelWords: built?.words ?? 0, addedPronunciations: built?.additions.count ?? 0, buildSeconds: buildSeconds)
    }

    /// Processor time this process has used (all threads).
    static func processorSeconds() -> Double {
        Double(clock()) / Double(CLOCKS_PER_SEC)
    }
}
