import ArgumentParser
import ChatAPI
import Foundation
import Retrieval

struct BenchVoice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "voice",
        abstract: "Word error rate and real-time factors of the built-in speech tools on spoken questions.",
        discussion: """
            Synthesises every question of --questions with eSpeak NG in each --voices voice at each --speeds rate, then
            transcribes all of them with PocketSphinx: with the stock en-us language model, and with a model built from the
            Markdown documents of --corpus (the questions are never added to it) at each --weights language weight.
            Real-time factors are per decoder (processing seconds over audio seconds).
            Example: omnifin bench voice --questions Benchmarks/voice/questions.txt --corpus corpora
            """
    )

    @Option(help: "A text file with one question per line.") var questions: String = "Benchmarks/voice/questions.txt"
    @Option(help: "The folder of documents the adapted model is built from.") var corpus: String = "corpora"
    @Option(help: "eSpeak NG voices, comma-separated.") var voices: String = "en-us,en-us+f3"
    @Option(help: "Speaking rates in words per minute, comma-separated.") var speeds: String = "140,175"
    @Option(help: "Language weights for the adapted model, comma-separated.") var weights: String = "6.5,10,14"
    @Flag(inversion: .prefixedNo, help: "Also measure the stock language model.") var stock = true
    @Flag(help: "Print one JSON document.") var json = false

    func run() async throws {
        guard let text = try? String(contentsOfFile: questions, encoding: .utf8) else { throw ValidationError("cannot read \(questions)") }
        let list = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        let documents = try SeedFolder.documents(in: corpus).map { $0.title + "\n" + $0.body }
        let speedList = speeds.split(separator: ",").compactMap { Int($0) }
        guard !list.isEmpty, !speedList.isEmpty else { throw ValidationError("no questions or speeds") }
        let report = try await VoiceBenchmark.run(
            questions: list, texts: documents, voices: voices.split(separator: ",").map(String.init), speeds: speedList,
            weights: weights.split(separator: ",").map(String.init), stock: stock
        ) { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
        if json {
            try JSONOutput.print(report)
            return
        }
        print(
            String(
                format: "%d utterances, %.0f s of speech; TTS real-time factor %.3f; %d questions found word for word in the corpus", report.utterances,
                report.audioSeconds, report.ttsRealTimeFactor, report.questionsInText))
        print("language model        weight  WER    exact sentences  STT real-time factor")
        for c in report.configurations {
            print(
                c.model.padding(toLength: 20, withPad: " ", startingAt: 0)
                    + String(format: "  %6@  %.3f  %15.3f  %20.3f", c.languageWeight, c.wordErrorRate, c.sentencesExact, c.realTimeFactor))
        }
        for c in report.configurations { print("worst with \(c.model) \(c.languageWeight):\n  " + c.worst.joined(separator: "\n  ")) }
    }
}
