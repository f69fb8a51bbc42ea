import ArgumentParser
import Chat
import Foundation
import OmnifinBenchmarks
import Retrieval
import Storage
import Voice

struct BenchVoice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "voice",
        abstract: "Word error rate, real-time factor and confidence of the built-in recogniser on spoken questions.",
        discussion: """
            Synthesises every question of --questions with eSpeak NG in each --voices voice at each --speeds rate and \
            transcribes each recording with Whisper (OMNIFIN_WHISPER_MODEL) in every combination of --beams, \
            --audio-context and --prompt, one recording at a time. The prompt is the names of the Markdown documents of \
            --corpus, as the server builds it from its knowledge bank. Word error rates are computed after normalising \
            numbers, amounts and contractions on both sides ("25k" = "25,000" = "twenty five thousand"), overall and \
            per section of the question file (a comment line of one word, e.g. "# dev", starts a section). --turns \
            also answers each transcript of the first combination with the built-in answerer over --corpus and speaks \
            the answer, timing whole voice turns.

            Example:
              omnifin bench voice --questions Benchmarks/voice/spoken.txt \\
                --section dev --beams 1,5 --audio-context 384,512,1500
            """
    )

    @Option(help: "A text file with one question per line (# starts a comment; '# NAME' a section).")
    var questions: String = "Benchmarks/voice/spoken.txt"
    @Option(help: "Only the questions of these sections, comma-separated (default: all).") var section: String?
    @Option(help: "The folder of Markdown documents the prompt (and --turns's knowledge bank) is built from.") var corpus: String = "corpora"
    @Option(help: "eSpeak NG voices, comma-separated.") var voices: String = "en-us,en-us+f3,en-gb-x-rp"
    @Option(help: "Speaking rates in words per minute, comma-separated.") var speeds: String = "150,180"
    @Option(help: "Beam sizes to measure, comma-separated (1 = greedy).") var beams: String?
    @Option(help: "Shortest audio contexts (encoder frames, 50 a second, up to 1500) to measure, comma-separated.")
    var audioContext: String?
    @Option(help: "Measure with the knowledge bank's names as prompt: on, off, or both.") var prompt: String = "on"
    @Option(help: "Use this text as the prompt instead of the one built from --corpus (to try other prompts).") var promptText: String?
    @Option(help: "The language spoken (ISO 639-1, or auto); default OMNIFIN_STT_LANGUAGE or en.") var language: String?
    @Option(help: "The confidence threshold to report the effect of (default OMNIFIN_STT_CONFIRM_BELOW or the product's).")
    var confirmBelow: Double?
    @Flag(help: "Also answer each transcript with the built-in answerer and speak the answer: p95 of a whole voice turn.") var turns = false
    @Option(help: "How many of the worst transcripts to list per configuration.") var worst: Int = 5
    @Option(help: "Write every transcript with its confidence and error rate to this JSON file.") var transcripts: String?
    @Flag(help: "Print one JSON document.") var json = false

    func run() async throws {
        guard let text = try? String(contentsOfFile: questions, encoding: .utf8) else { throw ValidationError("cannot read \(questions)") }
        var list = VoiceBenchmark.Question.parse(text)
        if let section {
            let wanted = Set(section.split(separator: ",").map(String.init))
            let known = Set(list.map(\.section))
            if let unknown = wanted.first(where: { !known.contains($0) }) {
                throw ValidationError("\(questions) has no section '\(unknown)' (it has: \(known.sorted().joined(separator: ", ")))")
            }
            list = list.filter { wanted.contains($0.section) }
        }
        let speedList = try speeds.split(separator: ",").map { item -> Int in
            guard let speed = Int(item), (80...450).contains(speed) else { throw ValidationError("--speeds are words per minute from 80 to 450: \(item)") }
            return speed
        }
        guard !list.isEmpty, !speedList.isEmpty else { throw ValidationError("no questions or speeds") }
        guard worst >= 0 else { throw ValidationError("--worst must be 0 or more") }
        let speech = SpeechConfiguration(try Wiring.settings())
        func integers(_ value: String?, _ fallback: Int, _ range: ClosedRange<Int>, _ name: String) throws -> [Int] {
            guard let value else { return [fallback] }
            return try value.split(separator: ",").map { item in
                guard let number = Int(item), range.contains(number) else {
                    throw ValidationError("\(name) takes whole numbers from \(range.lowerBound) to \(range.upperBound): \(item)")
                }
                return number
            }
        }
        let beamList = try integers(beams, speech.whisper.beamSize, 1...8, "--beams")
        let contexts = try integers(audioContext, speech.whisper.minimumAudioContext, 64...1500, "--audio-context")
        let prompts: [Bool]
        switch prompt {
        case "on": prompts = [true]
        case "off": prompts = [false]
        case "both": prompts = [true, false]
        default: throw ValidationError("--prompt is on, off or both")
        }
        let threshold = confirmBelow ?? speech.confirmBelow
        guard (0...1).contains(threshold) else { throw ValidationError("--confirm-below is from 0 to 1") }
        guard WhisperRecognizer.available(at: speech.whisperModel) else {
            throw ValidationError("no Whisper model at \(speech.whisperModel): make model fetches it")
        }
        let documents = try Wiring.markdownFolder(corpus)
        let probe = try WhisperRecognizer(modelPath: speech.whisperModel)
        let names = promptText ?? SpeechPrompt.build(documents: documents.map { ($0.title, $0.body) }) { probe.tokenCount($0) }
        var answer: (@Sendable (String) async throws -> String)?
        if turns {
            let settings = try Wiring.settings()
            let embedder = try Wiring.embedder(settings)
            let store = try SQLiteStore(path: ":memory:")
            let (bank, _) = try await KnowledgeBank.open(
                store: store, embedder: embedder, chunker: KnowledgeBank.defaultChunker(for: embedder), logger: Wiring.logger("omnifin.bench"))
            _ = try await bank.upsert(documents, rights: .everything)
            let answerer = Answerer(bank: bank, prompts: nil, configuration: ChatConfiguration(settings), logger: Wiring.logger("omnifin.bench"))
            // As the server does at start.
            _ = try await answerer.warmUp()
            answer = { question in try await answerer.answer(question, rights: .everything).1.text }
        }
        var settings: [VoiceBenchmark.Setting] = []
        for beam in beamList {
            for context in contexts {
                for prompted in prompts { settings.append(.init(beamSize: beam, minimumAudioContext: context, prompt: prompted)) }
            }
        }
        let report = try await VoiceBenchmark.run(
            questions: list, voices: voices.split(separator: ",").map(String.init), speeds: speedList, modelPath: speech.whisperModel,
            language: language ?? speech.whisper.language, settings: settings, prompt: names, confirmBelow: threshold, answer: answer, listWorst: worst
        ) { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
        if let transcripts {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            try encoder.encode(report.configurations.map { Transcripts(setting: $0.setting, transcripts: $0.transcripts) })
                .write(to: URL(fileURLWithPath: transcripts))
        }
        if json {
            var trimmed = report
            for index in trimmed.configurations.indices { trimmed.configurations[index].transcripts = [] }
            try JSONOutput.print(trimmed)
            return
        }
        print(
            String(
                format: "%d utterances, %.0f s of speech (%@); TTS real-time factor %.3f; %@, %d threads; confidence threshold %.2f",
                report.utterances, report.audioSeconds, voices, report.ttsRealTimeFactor, (report.model as NSString).lastPathComponent, report.threads,
                report.confirmBelow))
        print("prompt: \(report.prompt.isEmpty ? "(none)" : report.prompt)")
        let sections = Set(report.configurations.flatMap(\.wordErrorRateBySection.keys)).sorted()
        print(
            "beam  context  prompt  WER    " + sections.map { $0.padding(toLength: 7, withPad: " ", startingAt: 0) }.joined()
                + "raw    exact  RTF    CPU    p95 s  below  bad<   good<")
        for c in report.configurations {
            let perSection = sections.map { String(format: "%.3f  ", c.wordErrorRateBySection[$0] ?? .nan) }.joined()
            print(
                String(format: "%4d  %7d  %-6@  %.3f  ", c.setting.beamSize, c.setting.minimumAudioContext, c.setting.prompt ? "on" : "off", c.wordErrorRate)
                    + perSection
                    + String(
                        format: "%.3f  %.3f  %.3f  %.3f  %5.2f  %.3f  %.3f  %.3f", c.rawWordErrorRate, c.sentencesExact, c.realTimeFactor, c.cpuRealTimeFactor,
                        c.p95Seconds, c.belowThreshold, c.badlyHeardBelow, c.wellHeardBelow))
        }
        if let turns = report.turns {
            print(
                String(
                    format: "voice turns (transcribe + answer + speak), %d: p50 %.2f s, p95 %.2f s; recordings of 4-6 s (%d): p95 %@; p95 answer %.2f s, speak %.2f s",
                    turns.count, turns.p50Seconds, turns.p95Seconds, turns.fiveSecondQuestions,
                    turns.p95SecondsFiveSecondQuestions.map { String(format: "%.2f s", $0) } ?? "-", turns.p95AnswerSeconds, turns.p95SpeakSeconds))
        }
        for c in report.configurations where worst > 0 {
            print("worst with beam \(c.setting.beamSize), context \(c.setting.minimumAudioContext), prompt \(c.setting.prompt ? "on" : "off"):\n  " + c.worst.joined(separator: "\n  "))
        }
    }

    private struct Transcripts: Encodable {
        var setting: VoiceBenchmark.Setting
        var transcripts: [VoiceBenchmark.Transcribed]
    }
}
