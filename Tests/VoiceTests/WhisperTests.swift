import Foundation
import Testing
@testable import Voice

@Suite("Spoken text normalised for word error rates")
struct SpokenTextTests {
    @Test("numbers, amounts and contractions written any way are the same words")
    func numbers() {
        let same: [(String, String)] = [
            ("who signs off a 25k invoice", "Who signs off a twenty five thousand invoice?"),
            ("who signs off a €25,000 invoice", "who signs off a 25,000 euro invoice"),
            ("what's the hotel cap", "What is the hotel cap?"),
            ("I can't log in, we're stuck", "I cannot log in. We are stuck."),
            ("I've got 3 days", "I have got three days"),
            ("the 5th working day", "the fifth working day"),
            ("50% of the invoice", "fifty percent of the invoice"),
            ("one hundred and twenty km", "120 km"),
            ("so um month-end close", "So month end close."),
        ]
        for (reference, heard) in same {
            #expect(SpokenText.normalized(reference) == SpokenText.normalized(heard), "\(reference) ≠ \(heard)")
            #expect(WordErrorRate.normalized(heard, reference: reference) == 0)
        }
        #expect(SpokenText.normalized("€2,000") == ["2000", "euro"])
        // A different number is still an error; a possessive is not a contraction.
        #expect(WordErrorRate.normalized("a 20k invoice", reference: "a 25k invoice") > 0)
        #expect(SpokenText.normalized("the company's policy") == ["the", "company's", "policy"])
        #expect(WordErrorRate.of("what's the cap", reference: "what is the cap") > 0)
    }
}

@Suite("The recogniser's prompt of names")
struct SpeechPromptTests {
    static let documents: [(title: String, body: String)] = [
        ("Travel booking", "Book every trip in TripPoint. Invoices are approved in Odoo by the CFO. Meet in Paris on Monday."),
        ("Hotels", "TripPoint shows the hotel cap. The GRNI report lists goods received not invoiced. Ask Anna Fischer. Code WD5."),
        ("Close", "Odoo closes the month. GRNI is reviewed by the CFO in Paris. Monday is the cut-off."),
    ]

    @Test("names of at least two documents that the tokenizer splits, most widely used first, within the budget")
    func names() {
        // A stand-in tokenizer: common words are one token, anything else one token per two characters.
        let common: Set = [" Paris", " Monday", " CFO"]
        func count(_ text: String) -> Int {
            text.split(separator: " ").map { common.contains(" " + $0) ? 1 : ($0.count + 1) / 2 }.reduce(0, +)
        }
        let names = SpeechPrompt.names(in: Self.documents)
        // Acronyms, one document's names and words with digits are not names for the prompt.
        #expect(names == ["Monday", "Odoo", "Paris", "TripPoint"], "\(names)")
        // Capitalised only at the start of a sentence: not a name.
        #expect(!names.contains("Book") && !names.contains("Invoices"))
        let prompt = SpeechPrompt.build(documents: Self.documents, count: count)
        #expect(prompt == "Questions about Odoo, TripPoint.", "\(prompt)")
        #expect(SpeechPrompt.nameCount(prompt) == 2)
        let tight = SpeechPrompt.build(documents: Self.documents, budget: 12, count: count)
        #expect(tight == "Questions about Odoo.", "\(tight)")
        #expect(SpeechPrompt.build(documents: [], count: count).isEmpty)
    }
}

/// eSpeak NG's command-line tool speaking `text`, as a recording.
func spoken(_ text: String, voice: String = "en-us", rate: Int = 150) throws -> WAVAudio {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString + ".wav").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/espeak-ng")
    process.arguments = ["-v", voice, "-s", "\(rate)", "-w", path, text]
    try process.run()
    process.waitUntilExit()
    try #require(process.terminationStatus == 0, "espeak-ng is missing: make test installs it")
    return try WAVAudio.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
}

@Suite("Whisper in process", .serialized)
struct WhisperRecognizerTests {
    @Test("the converted model loads and transcribes a recording word for word, with a confidence")
    func transcribes() async throws {
        try #require(WhisperRecognizer.available(), "no Whisper model at \(WhisperRecognizer.defaultModelPath): make model fetches it")
        let recognizer = try WhisperRecognizer()
        #expect(recognizer.multilingual && recognizer.tokenCount(" TripPoint") >= 2 && recognizer.tokenCount(" Monday") == 1)
        let heard = try await recognizer.transcribe(try spoken("how many vacation days do new employees get in their first year"))
        #expect(heard.text == "How many vacation days do new employees get in their first year?", "\(heard.text)")
        let confidence = try #require(heard.confidence)
        #expect(confidence > SpeechConfiguration.defaultConfirmBelow && confidence <= 1 && heard.language == "en")
        // Numbers come out as digits (the benchmark's normalisation makes them equal to the words).
        let amount = try await recognizer.transcribe(try spoken("who needs to sign off a supplier invoice over twenty five thousand euros"))
        #expect(amount.text.contains("25,000") && WordErrorRate.normalized(amount.text, reference: "who needs to sign off a supplier invoice over 25k euros") <= 0.3, "\(amount.text)")
        // A recording shorter than a second (padded) and one of silence.
        let short = try await recognizer.transcribe(try spoken("hello", rate: 200))
        #expect(!short.text.isEmpty && short.confidence != nil)
        // Silence, a faint hum and white noise are no speech (Whisper alone writes "You" for silence and a confident
        // sentence for noise).
        let silence = try await recognizer.transcribe(WAVAudio(sampleRate: 16_000, samples: [Int16](repeating: 0, count: 32_000)))
        #expect(silence.text.isEmpty, "\(silence)")
        let hum = (0..<32_000).map { Int16(100 * sin(Double($0) / 10)) }
        #expect(try await recognizer.transcribe(WAVAudio(sampleRate: 16_000, samples: hum)).text.isEmpty)
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<48_000).map { _ in Int16.random(in: -8000...8000, using: &generator) }
        #expect(try await recognizer.transcribe(WAVAudio(sampleRate: 16_000, samples: noise)).text.isEmpty)
    }

    @Test("the prompt spells the bank's names; a missing model file is a clear error")
    func prompted() async throws {
        try #require(WhisperRecognizer.available())
        let recognizer = try WhisperRecognizer()
        recognizer.replacePrompt("Questions about TripPoint, Odoo, GRNI.")
        let heard = try await recognizer.transcribe(try spoken("can I book my hotel outside TripPoint"))
        #expect(heard.text.contains("TripPoint"), "\(heard.text)")
        #expect {
            try WhisperRecognizer(modelPath: "/nonexistent/ggml-base.bin")
        } throws: { error in
            "\(error)".contains("/nonexistent/ggml-base.bin")
        }
    }
}
