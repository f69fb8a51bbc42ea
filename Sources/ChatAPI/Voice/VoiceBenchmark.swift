public import Foundation
import Retrieval

/// Word error rate and real-time factors of the built-in speech tools on spoken questions: each question is
/// synthesised with eSpeak NG in several voices and speeds, and transcribed by PocketSphinx with the stock language
/// model and with models built from the knowledge text (at several language weights).
public enum VoiceBenchmark {
    public struct Configuration: Sendable, Codable {
        public var model: String
        public var languageWeight: String
        public var wordErrorRate: Double
        public var sentencesExact: Double
        public var realTimeFactor: Double
        public var worst: [String]
    }

    public struct Report: Sendable, Codable {
        public var utterances: Int
        public var audioSeconds: Double
        public var ttsRealTimeFactor: Double
        public var configurations: [Configuration]
        /// Questions found word for word in the adaptation text (reported, not excluded).
        public var questionsInText: Int
    }

    /// - Parameters:
    ///   - questions: what is spoken (never added to the adaptation text).
    ///   - texts: the knowledge text the adapted model is built from.
    ///   - voices: eSpeak NG voices, e.g. `en-us`, `en-us+f3`.
    ///   - speeds: words per minute.
    ///   - weights: language weights to try with the adapted model (the stock model runs at PocketSphinx's 6.5).
    ///   - stock: also measure the stock language model.
    public static func run(
        questions: [String], texts: [String], voices: [String], speeds: [Int], weights: [String], stock: Bool = true,
        progress: @Sendable (String) -> Void = { _ in }
    ) async throws -> Report {
        let dictionary = SpeechRecognizer().dictionary
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-bench-voice-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let adapted = directory.appendingPathComponent("knowledge.lm").path
        try LanguageModelBuilder.arpa(texts: texts, vocabulary: LanguageModelBuilder.dictionaryWords(dictionary)).write(toFile: adapted, atomically: true, encoding: .utf8)
        let lowerText = texts.joined(separator: " ").lowercased()

        var utterances: [(text: String, audio: WAVAudio)] = []
        var ttsSeconds = 0.0
        var audioSeconds = 0.0
        for voice in voices {
            for speed in speeds {
                let synthesizer = SpeechSynthesizer(voice: voice, wordsPerMinute: speed)
                for question in questions {
                    let started = ContinuousClock.now
                    let speech = try await synthesizer.speak(question)
                    ttsSeconds += (ContinuousClock.now - started).inSeconds
                    audioSeconds += speech.seconds
                    utterances.append((question, speech.resampled(to: 16_000)))
                }
                progress("synthesised \(questions.count) questions with \(voice) at \(speed) wpm")
            }
        }
        var configurations: [Configuration] = []
        for (model, weight) in (stock ? [(SpeechRecognizer.stockLanguageModel, "6.5")] : []) + weights.map({ (adapted, $0) }) {
            let recognizer = SpeechRecognizer(languageModel: model, maximumDecoders: 2, languageWeight: weight)
            let started = ContinuousClock.now
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
            var errors = 0.0
            var words = 0
            var exact = 0
            var scored: [(Double, String)] = []
            for (index, utterance) in utterances.enumerated() {
                let reference = WordErrorRate.words(utterance.text)
                let rate = WordErrorRate.of(heard[index], reference: utterance.text)
                errors += rate * Double(reference.count)
                words += reference.count
                if rate == 0 { exact += 1 }
                scored.append((rate, "\(utterance.text) → \(heard[index])"))
            }
            let name = model == SpeechRecognizer.stockLanguageModel ? "stock en-us.lm.bin" : "knowledge bank"
            configurations.append(
                Configuration(
                    model: name, languageWeight: weight, wordErrorRate: errors / Double(max(1, words)), sentencesExact: Double(exact) / Double(utterances.count),
                    // Two decoders in parallel on two cores: the factor is per decoder, as one request sees it.
                    realTimeFactor: seconds * 2 / audioSeconds, worst: scored.sorted { $0.0 > $1.0 }.prefix(5).map(\.1)))
            progress("\(name) at weight \(weight): WER \(String(format: "%.3f", configurations.last!.wordErrorRate))")
        }
        return Report(
            utterances: utterances.count, audioSeconds: audioSeconds, ttsRealTimeFactor: ttsSeconds / audioSeconds, configurations: configurations,
            questionsInText: questions.filter { lowerText.contains($0.lowercased()) }.count)
    }
}
