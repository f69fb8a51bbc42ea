import ArgumentParser
import OmnifinBenchmarks
import Voice
import Foundation
import Retrieval

struct BenchVoice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "voice",
        abstract: "Word error rate and real-time factors of the built-in speech tools on spoken questions.",
        discussion: """
            Synthesises every question of --questions with eSpeak NG in each --voices voice at each --speeds rate, then
            transcribes all of them with PocketSphinx: with the stock en-us language model, and with the model and
            dictionary Omnifin builds from the Markdown documents of --corpus (the questions are never added to it, and
            are withheld from the questions it generates) at each --weights language weight, each --question-weights
            mixture, each --stock-weights share of the stock model interpolated with it and each --options set. Real-time factors are per decoder (processing seconds over audio seconds).
            Example: omnifin bench voice --no-stock --weights 6.5 --options "-topn 32;-topn 64"
            """
    )

    @Option(help: "A text file with one question per line.") var questions: String = "Benchmarks/voice/questions.txt"
    @Option(help: "The folder of documents the adapted model is built from.") var corpus: String = "corpora"
    @Option(help: "eSpeak NG voices, comma-separated.") var voices: String = "en-us,en-us+f3"
    @Option(help: "Speaking rates in words per minute, comma-separated.") var speeds: String = "140,175"
    @Option(help: "Language weights for the adapted model, comma-separated.") var weights: String = "6.5"
    @Option(help: "Shares of the generated questions in the adapted model, comma-separated (default: the product's).")
    var questionWeights: String?
    @Option(help: "Shares of the stock en-us model interpolated with the adapted one, comma-separated, each from 0 to below 1 (default: OMNIFIN_STT_STOCK_WEIGHT or the product's).")
    var stockWeights: String?
    @Option(help: "The most words of the adapted model (default: OMNIFIN_STT_MAX_WORDS or the product's).")
    var maxWords: Int?
    @Option(help: "PocketSphinx option sets separated by ';' (each replaces the defaults; default: OMNIFIN_STT_OPTIONS or the product's).")
    var options: String?
    @Flag(inversion: .prefixedNo, help: "Also measure the stock language model.") var stock = true
    @Flag(inversion: .prefixedNo, help: "Withhold the questions from the generated questions (--no-withhold measures what the product builds).")
    var withhold = true
    @Option(help: "Keep the adapted models and dictionaries in this folder.") var keepModels: String?
    @Option(help: "How many of the worst transcripts to list per configuration.") var worst: Int = 5
    @Flag(help: "Print one JSON document.") var json = false

    func run() async throws {
        guard let text = try? String(contentsOfFile: questions, encoding: .utf8) else { throw ValidationError("cannot read \(questions)") }
        let list = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        let documents = try Wiring.markdownFolder(corpus)
        let speedList = speeds.split(separator: ",").compactMap { Int($0) }
        guard !list.isEmpty, !speedList.isEmpty else { throw ValidationError("no questions or speeds") }
        guard worst >= 0 else { throw ValidationError("--worst must be 0 or more") }
        /// A comma-separated list of shares, each one `valid` accepts.
        func shares(_ value: String, _ valid: (Double) -> Bool, _ rule: String) throws -> [Double] {
            try value.split(separator: ",").map { item -> Double in
                guard let weight = Double(item), valid(weight) else { throw ValidationError("\(rule): \(item)") }
                return weight
            }
        }
        let mixtures = try questionWeights.map { try shares($0, { (0...1).contains($0) }, "question weights are between 0 and 1") }
        let speech = SpeechConfiguration(try Wiring.settings())
        let stockShares =
            try stockWeights.map { try shares($0, SpeechConfiguration.isStockWeight, "stock weights are from 0 to below 1") } ?? [speech.stockWeight]
        let wordCap = maxWords ?? speech.maximumWords
        let range = SpeechConfiguration.maximumWordsRange
        guard range.contains(wordCap) else { throw ValidationError("--max-words is from \(range.lowerBound) to \(range.upperBound)") }
        let optionSets: [[String]?] = options.map { value in
            value.split(separator: ";").map { Optional($0.split(whereSeparator: \.isWhitespace).map(String.init)) }
        } ?? [nil]
        let report = try await VoiceBenchmark.run(
            questions: list, documents: documents, voices: voices.split(separator: ",").map(String.init), speeds: speedList,
            weights: weights.split(separator: ",").map(String.init), questionWeights: mixtures, stockWeights: stockShares, maximumWords: wordCap,
            optionSets: optionSets, stock: stock,
            withholdQuestions: withhold, modelDirectory: keepModels, listWorst: worst
        ) { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
        if json {
            try JSONOutput.print(report)
            return
        }
        print(
            String(
                format: "%d utterances, %.0f s of speech; TTS real-time factor %.3f; %d questions found word for word in the corpus, %d generated (%@)",
                report.utterances, report.audioSeconds, report.ttsRealTimeFactor, report.questionsInText, report.questionsGenerated,
                report.questionsWithheld ? "withheld" : "kept"))
        print(
            String(
                format: "adapted model: %d words, %d pronunciations added, built in %.1f s", report.modelWords, report.addedPronunciations, report.buildSeconds))
        print("language model      questions  stock  weight  options               WER    odd    even   exact  STT real-time factor (wall, CPU)")
        for c in report.configurations {
            print(
                c.model.padding(toLength: 20, withPad: " ", startingAt: 0) + (c.questionWeight.map { String(format: "%9.2f", $0) } ?? "        -")
                    + (c.stockWeight.map { String(format: "  %5.2f", $0) } ?? "      -") + "  " + c.languageWeight.padding(toLength: 6, withPad: " ", startingAt: 0) + "  " + c.options.padding(toLength: 20, withPad: " ", startingAt: 0)
                    + String(
                        format: "  %.3f  %.3f  %.3f  %.3f  %.3f, %.3f", c.wordErrorRate, c.wordErrorRateOddLines, c.wordErrorRateEvenLines, c.sentencesExact,
                        c.realTimeFactor, c.cpuRealTimeFactor))
        }
        for c in report.configurations {
            print("worst with \(c.model) \(c.questionWeight.map { "\($0) " } ?? "")\(c.stockWeight.map { "stock \($0) " } ?? "")\(c.languageWeight) \(c.options):\n  " + c.worst.joined(separator: "\n  "))
        }
    }
}
