import Foundation
import Glibc
import Retrieval
public import Voice

/// Word error rate, real-time factor and confidence of the built-in recogniser on spoken questions: each question is
/// synthesised with eSpeak NG in several voices and speeds and transcribed by Whisper in each configuration (beams,
/// shortest audio context, with or without the knowledge bank's names as prompt); optionally the whole voice turn
/// (transcribe, answer, speak) is timed.
public enum VoiceBenchmark {
    /// A question of the set, with its section (`dev`, `test`, `de` …: the `# name` comment line above it).
    public struct Question: Sendable {
        public var text: String
        public var section: String

        public init(text: String, section: String) {
            self.text = text
            self.section = section
        }

        /// The lines of a question file: `#` starts a comment, and a comment of one word names the section of the lines
        /// below it.
        public static func parse(_ file: String) -> [Question] {
            var section = "all"
            var questions: [Question] = []
            for line in file.split(whereSeparator: \.isNewline) {
                let text = line.trimmingCharacters(in: .whitespaces)
                if text.hasPrefix("#") {
                    let name = text.dropFirst().trimmingCharacters(in: .whitespaces)
                    if !name.isEmpty, !name.contains(" ") { section = name }
                } else if !text.isEmpty {
                    questions.append(Question(text: text, section: section))
                }
            }
            return questions
        }
    }

    /// One way of decoding.
    public struct Setting: Sendable, Codable, Hashable {
        public var beamSize: Int
        public var minimumAudioContext: Int
        public var prompt: Bool

        public init(beamSize: Int, minimumAudioContext: Int, prompt: Bool) {
            self.beamSize = beamSize
            self.minimumAudioContext = minimumAudioContext
            self.prompt = prompt
        }
    }

    public struct Configuration: Sendable, Codable {
        public var setting: Setting
        /// Over every utterance, normalised (``WordErrorRate/normalized(_:reference:)``).
        public var wordErrorRate: Double
        /// Per section of the question file.
        public var wordErrorRateBySection: [String: Double]
        /// The rate without normalising numbers and contractions, to see what the normalisation changes.
        public var rawWordErrorRate: Double
        public var sentencesExact: Double
        /// Wall-clock seconds of transcription per second of speech, one recording at a time (what a user waits).
        public var realTimeFactor: Double
        /// Processor seconds per second of speech.
        public var cpuRealTimeFactor: Double
        /// p95 of one transcription's seconds.
        public var p95Seconds: Double
        /// The confidence threshold's effect: utterances below it, and among the badly heard (WER above 0.3) and the
        /// well heard (0.3 or less) the share below it.
        public var belowThreshold: Double
        public var badlyHeardBelow: Double
        public var wellHeardBelow: Double
        /// The worst transcripts, "question → transcript (confidence)", worst first.
        public var worst: [String]
        /// Every transcript with its confidence, for calibrating a threshold.
        public var transcripts: [Transcribed]
    }

    public struct Transcribed: Sendable, Codable {
        public var question: String
        public var section: String
        public var voice: String
        public var speed: Int
        public var transcript: String
        public var confidence: Double
        public var wordErrorRate: Double
        public var seconds: Double
    }

    public struct Turns: Sendable, Codable {
        public var count: Int
        /// Whole turns (transcribe, answer, speak) in seconds.
        public var p50Seconds: Double
        public var p95Seconds: Double
        /// The same over recordings of 4 to 6 seconds (a "5 s question").
        public var p95SecondsFiveSecondQuestions: Double?
        public var fiveSecondQuestions: Int
        public var p95AnswerSeconds: Double
        public var p95SpeakSeconds: Double
    }

    public struct Report: Sendable, Codable {
        public var model: String
        public var language: String
        public var threads: Int
        public var utterances: Int
        public var audioSeconds: Double
        public var ttsRealTimeFactor: Double
        public var prompt: String
        public var confirmBelow: Double
        public var configurations: [Configuration]
        /// With the first configuration, when an answerer was given.
        public var turns: Turns?
    }

    /// - Parameters:
    ///   - questions: what is spoken.
    ///   - voices: eSpeak NG voices, e.g. `en-us`, `en-us+f3`.
    ///   - speeds: words per minute.
    ///   - settings: decoding settings to measure, each over every utterance.
    ///   - prompt: the knowledge bank's names (``SpeechPrompt``) for the settings that use one.
    ///   - answer: when given, the first setting's transcripts are answered and the answers spoken, to time whole turns.
    public static func run(
        questions: [Question], voices: [String], speeds: [Int], modelPath: String, language: String, settings: [Setting], prompt: String,
        confirmBelow: Double, answer: (@Sendable (String) async throws -> String)? = nil, listWorst: Int = 5,
        progress: @Sendable (String) -> Void = { _ in }
    ) async throws -> Report {
        var utterances: [(question: Question, voice: String, speed: Int, audio: WAVAudio)] = []
        var ttsSeconds = 0.0
        var audioSeconds = 0.0
        for voice in voices {
            for speed in speeds {
                let synthesizer = SpeechSynthesizer(voice: voice, wordsPerMinute: speed)
                for question in questions {
                    let started = ContinuousClock.now
                    let speech = try await synthesizer.speak(question.text)
                    ttsSeconds += (ContinuousClock.now - started).inSeconds
                    audioSeconds += speech.seconds
                    utterances.append((question, voice, speed, speech))
                }
                progress("synthesised \(questions.count) questions with \(voice) at \(speed) wpm")
            }
        }
        var configurations: [Configuration] = []
        var threads = 0
        var turns: Turns?
        for (position, setting) in settings.enumerated() {
            var options = WhisperRecognizer.Options()
            options.language = language
            options.beamSize = setting.beamSize
            options.minimumAudioContext = setting.minimumAudioContext
            options.states = 1
            let recognizer = try WhisperRecognizer(modelPath: modelPath, options: options)
            threads = recognizer.threads
            let usedPrompt = setting.prompt ? prompt : ""
            // One recording at a time, as one user's request sees it; the first is a warm-up (allocating the state).
            _ = try await recognizer.transcribe(utterances[0].audio, prompt: usedPrompt)
            var transcribed: [Transcribed] = []
            var turnSeconds: [(audio: Double, total: Double, answer: Double, speak: Double)] = []
            let startedCPU = processorSeconds()
            var wallSeconds = 0.0
            for (index, utterance) in utterances.enumerated() {
                let started = ContinuousClock.now
                let heard = try await recognizer.transcribe(utterance.audio, prompt: usedPrompt)
                let seconds = (ContinuousClock.now - started).inSeconds
                wallSeconds += seconds
                transcribed.append(
                    Transcribed(
                        question: utterance.question.text, section: utterance.question.section, voice: utterance.voice, speed: utterance.speed,
                        transcript: heard.text, confidence: heard.confidence ?? 0,
                        wordErrorRate: WordErrorRate.normalized(heard.text, reference: utterance.question.text), seconds: seconds))
                if position == 0, let answer, !heard.text.isEmpty {
                    let answerStarted = ContinuousClock.now
                    let text = try await answer(heard.text)
                    let answerSeconds = (ContinuousClock.now - answerStarted).inSeconds
                    let speakStarted = ContinuousClock.now
                    _ = try await SpeechSynthesizer().speak(text)
                    let speakSeconds = (ContinuousClock.now - speakStarted).inSeconds
                    turnSeconds.append((utterance.audio.seconds, seconds + answerSeconds + speakSeconds, answerSeconds, speakSeconds))
                }
                if (index + 1) % 50 == 0 { progress("  \(index + 1)/\(utterances.count)") }
            }
            let cpuSeconds = processorSeconds() - startedCPU
            configurations.append(
                summary(
                    setting: setting, transcribed: transcribed, utterances: utterances.map { ($0.question.text, $0.audio.seconds) },
                    wallSeconds: wallSeconds, cpuSeconds: cpuSeconds, audioSeconds: audioSeconds, confirmBelow: confirmBelow, listWorst: listWorst))
            if !turnSeconds.isEmpty {
                let five = turnSeconds.filter { (4...6).contains($0.audio) }.map(\.total)
                turns = Turns(
                    count: turnSeconds.count, p50Seconds: percentile(turnSeconds.map(\.total), 0.5), p95Seconds: percentile(turnSeconds.map(\.total), 0.95),
                    p95SecondsFiveSecondQuestions: five.isEmpty ? nil : percentile(five, 0.95), fiveSecondQuestions: five.count,
                    p95AnswerSeconds: percentile(turnSeconds.map(\.answer), 0.95), p95SpeakSeconds: percentile(turnSeconds.map(\.speak), 0.95))
            }
            let last = configurations.last!
            progress(
                "beam \(setting.beamSize), audio context ≥ \(setting.minimumAudioContext), prompt \(setting.prompt ? "on" : "off"): WER \(String(format: "%.3f", last.wordErrorRate)), real-time factor \(String(format: "%.3f", last.realTimeFactor))"
            )
        }
        return Report(
            model: modelPath, language: language, threads: threads, utterances: utterances.count, audioSeconds: audioSeconds,
            ttsRealTimeFactor: ttsSeconds / audioSeconds, prompt: prompt, confirmBelow: confirmBelow, configurations: configurations, turns: turns)
    }

    static func summary(
        setting: Setting, transcribed: [Transcribed], utterances: [(text: String, seconds: Double)], wallSeconds: Double, cpuSeconds: Double,
        audioSeconds: Double, confirmBelow: Double, listWorst: Int
    ) -> Configuration {
        // Errors weighted by the reference's length: the rate over all words, not the mean of sentence rates.
        var errors: [String: (edits: Double, words: Int)] = [:]
        var rawEdits = 0.0
        var rawWords = 0
        for item in transcribed {
            let words = SpokenText.normalized(item.question).count
            for key in ["all", item.section] {
                errors[key, default: (0, 0)].edits += item.wordErrorRate * Double(words)
                errors[key, default: (0, 0)].words += words
            }
            let raw = WordErrorRate.words(item.question).count
            rawEdits += WordErrorRate.of(item.transcript, reference: item.question) * Double(raw)
            rawWords += raw
        }
        func rate(_ key: String) -> Double { (errors[key]?.edits ?? 0) / Double(max(1, errors[key]?.words ?? 0)) }
        let bad = transcribed.filter { $0.wordErrorRate > 0.3 }
        let good = transcribed.filter { $0.wordErrorRate <= 0.3 }
        func shareBelow(_ items: [Transcribed]) -> Double {
            items.isEmpty ? 0 : Double(items.filter { $0.confidence < confirmBelow }.count) / Double(items.count)
        }
        var sections: [String: Double] = [:]
        for key in errors.keys where key != "all" { sections[key] = rate(key) }
        return Configuration(
            setting: setting, wordErrorRate: rate("all"), wordErrorRateBySection: sections, rawWordErrorRate: rawEdits / Double(max(1, rawWords)),
            sentencesExact: Double(transcribed.filter { $0.wordErrorRate == 0 }.count) / Double(max(1, transcribed.count)),
            realTimeFactor: wallSeconds / audioSeconds, cpuRealTimeFactor: cpuSeconds / audioSeconds, p95Seconds: percentile(transcribed.map(\.seconds), 0.95),
            belowThreshold: shareBelow(transcribed), badlyHeardBelow: shareBelow(bad), wellHeardBelow: shareBelow(good),
            worst: transcribed.sorted { $0.wordErrorRate > $1.wordErrorRate }.prefix(listWorst).map {
                "\($0.question) → \($0.transcript) (\(String(format: "%.2f", $0.confidence)), \($0.voice) \($0.speed))"
            },
            transcripts: transcribed)
    }

    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * fraction).rounded(.up)))]
    }

    /// Processor time this process has used (all threads).
    static func processorSeconds() -> Double {
        Double(clock()) / Double(CLOCKS_PER_SEC)
    }
}
