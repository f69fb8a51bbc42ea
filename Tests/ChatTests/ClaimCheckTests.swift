@testable import Chat
import Foundation
@testable import Retrieval
import Testing

@Suite("Citation formats of real models")
struct CitationFormatTests {
    static let titles = [1: "Invoice approval policy", 2: "Payment runs", 3: "Travel expenses"]

    @Test("every format models write becomes [n]; lists and numbers in the text are left alone")
    func formats() {
        let cases: [(String, String)] = [
            ("The budget owner approves [1][2].", "The budget owner approves [1][2]."),
            ("The budget owner approves 【1】.", "The budget owner approves [1]."),
            ("The budget owner approves 【1†source】.", "The budget owner approves [1]."),
            ("The budget owner approves[^2].", "The budget owner approves[2]."),
            ("The budget owner approves [1-3].", "The budget owner approves [1][2][3]."),
            ("The budget owner approves (1).", "The budget owner approves [1]."),
            ("The budget owner approves (1, 3).", "The budget owner approves [1][3]."),
            ("The budget owner approves (Source 2).", "The budget owner approves [2]."),
            ("The budget owner approves [Source 2].", "The budget owner approves [2]."),
            ("The budget owner approves. Source 1", "The budget owner approves. [1]"),
            ("The budget owner approves (Sources 1 and 3).", "The budget owner approves [1][3]."),
            ("The budget owner approves [Passage 2].", "The budget owner approves [2]."),
            ("The budget owner approves [doc3].", "The budget owner approves [3]."),
            ("The budget owner approves [Source: Invoice approval policy].", "The budget owner approves [1]."),
            ("The budget owner approves (Payment runs).", "The budget owner approves [2]."),
            ("Steps:\n(1) Register the invoice.\n(2) Approve it.", "Steps:\n(1) Register the invoice.\n(2) Approve it."),
            ("The limit is 10,000 EUR (net).", "The limit is 10,000 EUR (net)."),
            ("See [an unknown title] for more.", "See [an unknown title] for more."),
        ]
        for (input, expected) in cases {
            #expect(CitationFormats.normalized(input, titles: Self.titles) == expected, "\(input)")
        }
    }

    @Test("after normalising, markers that point nowhere are dropped as before")
    func cleaned() {
        let text = CitationFormats.normalized("Paid on Fridays (Source 9). Approved by the budget owner 【1】.", titles: Self.titles)
        let (clean, cited) = Citations.clean(text, validNumbers: [1, 2, 3])
        #expect(clean == "Paid on Fridays. Approved by the budget owner [1]." && cited == [1], "\(clean)")
    }
}

@Suite("The claim check of generated answers", .serialized)
struct ClaimCheckTests {
    static let embedder: Result<BuiltinEmbedder, any Error> = Result { try BuiltinEmbedder(threads: 2) }

    struct Pairs: Decodable {
        struct Pair: Decodable {
            var passage: String
            var supported: Bool
            var claim: String
        }
        var passages: [String: String]
        var pairs: [Pair]
    }

    static func pairs() throws -> Pairs {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/claim-pairs.json")
        return try JSONDecoder().decode(Pairs.self, from: Data(contentsOf: url))
    }

    static func passage(_ number: Int, _ title: String, _ text: String) -> NumberedPassage {
        NumberedPassage(
            number: number,
            hit: KnowledgeHit(
                documentID: "d\(number)", title: title, source: "test", chunkID: Int64(number), ordinal: 0, passage: text, start: 0,
                end: text.utf16.count, score: 1, denseScore: 0.8))
    }

    /// The best cosine of each claim against the sentences of its passage, as the check computes it.
    static func similarities(_ data: Pairs, embedder: any Embedder) async throws -> [(score: Double, supported: Bool)] {
        var scores: [(Double, Bool)] = []
        for pair in data.pairs {
            let sentences = ClaimCheck.passageSentences(data.passages[pair.passage]!)
            let vectors = try await embedder.embed([pair.claim] + sentences)
            let best = vectors.dropFirst().map { ClaimCheck.cosine(vectors[0], $0) }.max()!
            scores.append((best, pair.supported))
        }
        return scores
    }

    @Test("the default threshold separates paraphrases from claims the passage does not make (calibration printed)")
    func calibration() async throws {
        let data = try Self.pairs()
        let scores = try await Self.similarities(data, embedder: try Self.embedder.get())
        var lines: [String] = []
        var best = (threshold: 0.0, accuracy: 0.0)
        for step in 20...80 where step % 5 == 0 {
            let threshold = Double(step) / 100
            let kept = scores.filter { $0.supported }.filter { $0.score >= threshold }.count
            let caught = scores.filter { !$0.supported }.filter { $0.score < threshold }.count
            let supported = scores.filter(\.supported).count
            let accuracy = Double(kept + caught) / Double(scores.count)
            if accuracy > best.accuracy { best = (threshold, accuracy) }
            lines.append(String(format: "%.2f: supported kept %d/%d, unsupported removed %d/%d, accuracy %.2f", threshold, kept, supported, caught, scores.count - supported, accuracy))
        }
        print("claim check calibration (\(scores.count) pairs):\n" + lines.joined(separator: "\n") + "\nbest \(best)")
        let threshold = ClaimCheck.defaultThreshold
        let keptShare = Double(scores.filter { $0.supported && $0.score >= threshold }.count) / Double(scores.filter(\.supported).count)
        let caughtShare = Double(scores.filter { !$0.supported && $0.score < threshold }.count) / Double(scores.filter { !$0.supported }.count)
        // A supported sentence removed costs an answer its fact; an unsupported one kept is what the check is for.
        #expect(keptShare >= 0.9, "supported claims kept at \(threshold): \(keptShare)")
        #expect(caughtShare >= 0.8, "unsupported claims removed at \(threshold): \(caughtShare)")
    }

    @Test("a wrong number, a claim about another passage and a number from nowhere are removed; right sentences stay")
    func removes() async throws {
        let data = try Self.pairs()
        let check = ClaimCheck(embedder: try Self.embedder.get())
        let passages = [
            Self.passage(1, "Invoice approval policy", data.passages["approval"]!),
            Self.passage(2, "Payment runs", data.passages["payment"]!),
        ]
        // Written as models answer: a right sentence, a wrong number, a right claim citing the wrong passage, an uncited
        // number from nowhere.
        let answer =
            "Invoices up to 10,000 EUR are approved by the budget owner [1]. Invoices above 50,000 EUR need the CFO [1]. "
            + "Payment runs happen every Tuesday and Friday [1]. Payments are usually made within 45 days."
        let result = try await check.check(answer, question: "who approves a 25k invoice?", passages: passages)
        #expect(result.checked == 3 && result.supported == 2 && result.recited == 1, "\(result)")
        #expect(result.removed == ["Invoices above 50,000 EUR need the CFO.", "Payments are usually made within 45 days."], "\(result.removed)")
        #expect(result.text == "Invoices up to 10,000 EUR are approved by the budget owner [1]. Payment runs happen every Tuesday and Friday [2].", "\(result.text)")
        // A number the asker gave is not an invention.
        let echoed = try await check.check(
            "A 25,000 EUR invoice needs a second approval by the finance controller [1].", question: "who approves a 25k invoice?", passages: passages)
        #expect(echoed.removed.isEmpty && echoed.supported == 1, "\(echoed)")
        // Markers that open the next sentence belong to the one before; nothing supported leaves nothing.
        let moved = try await check.check("The moon is made of cheese. [2] It is 384,400 km away.", question: "q", passages: passages)
        #expect(moved.text.isEmpty && moved.supported == 0 && moved.removed.count == 2, "\(moved)")
    }
}

@Suite("The queue in front of the local engine")
struct EngineQueueTests {
    @Test("one turn runs, the limit waits in order, the next is refused with a wait; a caller that leaves frees its place")
    func bounded() async throws {
        let queue = EngineQueue(slots: 1, limit: 2)
        let order = OrderLog()
        let gate = AsyncStream<Void>.makeStream()
        let first = Task { try await queue.run { for await _ in gate.stream { break }; await order.add(1) } }
        while queue.load.running < 1 { try await Task.sleep(for: .milliseconds(5)) }
        let second = Task { try await queue.run { await order.add(2) } }
        while queue.load.waiting < 1 { try await Task.sleep(for: .milliseconds(5)) }
        let leaving = Task { try await queue.run { await order.add(99) } }
        while queue.load.waiting < 2 { try await Task.sleep(for: .milliseconds(5)) }
        await #expect(throws: EngineQueue.Full.self) { try await queue.run { await order.add(100) } }
        leaving.cancel()
        await #expect(throws: CancellationError.self) { try await leaving.value }
        #expect(queue.load.waiting == 1)
        let third = Task { try await queue.run { await order.add(3) } }
        while queue.load.waiting < 2 { try await Task.sleep(for: .milliseconds(5)) }
        gate.continuation.yield()
        try await first.value
        try await second.value
        try await third.value
        #expect(await order.values == [1, 2, 3])
        #expect(queue.load.running == 0 && queue.load.waiting == 0)
    }

    actor OrderLog {
        var values: [Int] = []
        func add(_ value: Int) { values.append(value) }
    }
}
