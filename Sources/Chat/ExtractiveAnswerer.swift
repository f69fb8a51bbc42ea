import Foundation
import Retrieval

/// The built-in answerer: no language model, only the knowledge bank's own sentences.
///
/// It splits the retrieved passages into sentences, scores each against the question (cosine of the built-in
/// embeddings plus the share of the question's terms the sentence contains), keeps the best few that are close
/// to the best one and not repeats of each other, and writes them in the order of the passages, each followed
/// by its citation marker.
struct ExtractiveAnswerer: AnswerGenerator {
    let embedder: any Embedder
    /// A sentence needs at least this score to be part of an answer (cosine + 0.3 × term overlap).
    var sentenceThreshold: Double = 0.5
    /// How far below the best sentence another may score and still be used.
    var spread: Double = 0.12
    var maximumSentences = 3
    var maximumCharacters = 700

    var name: String { "builtin" }

    func checkReachable() async -> Bool { true }

    struct Candidate {
        var passage: Int
        var position: Int
        var text: String
        /// The document title and the section heading above the sentence: scored with it, not shown.
        var context: String
        var score: Double
        var vector: [Float]
        /// A question (an FAQ heading, say) never answers; it lends its score to the sentence after it.
        var isQuestion: Bool { text.hasSuffix("?") }
    }

    func generate(_ request: GenerationRequest) -> AsyncThrowingStream<String, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let answer = try await compose(request)
                    // Word by word, so streaming clients see the answer build up like any other generator's.
                    var first = true
                    for word in answer.split(separator: " ", omittingEmptySubsequences: false) {
                        try Task.checkCancellation()
                        continuation.yield((first ? "" : " ") + word)
                        first = false
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// The answer text, or an empty string when no sentence is relevant enough.
    func compose(_ request: GenerationRequest) async throws -> String {
        let analyzer = EnglishAnalyzer()
        let questionTerms = Set(analyzer.terms(request.question))
        var candidates: [Candidate] = []
        for passage in request.passages {
            let text = passage.hit.passage
            let utf16 = Array(text.utf16)
            var heading = ""
            for (position, range) in SentenceSplitter.sentences(in: text).enumerated() {
                var sentence = String(decoding: utf16[range], as: UTF16.self).trimmingCharacters(in: .whitespaces)
                if sentence.hasPrefix("#") {
                    heading = sentence.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
                    // A question heading (an FAQ entry) stays a candidate: it lends its score to the answer after it.
                    if !heading.hasSuffix("?") { continue }
                    heading = ""
                }
                // Markdown list bullets, heading marks and table pipes are layout, not words.
                if sentence.hasPrefix("|") {
                    let cells = sentence.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                    if cells.allSatisfy({ $0.allSatisfy { "-: ".contains($0) } }) { continue }
                    sentence = cells.joined(separator: ": ")
                }
                while let first = sentence.first, "#-*•>".contains(first) { sentence = String(sentence.dropFirst()).trimmingCharacters(in: .whitespaces) }
                guard sentence.count >= 12, sentence.split(separator: " ").count >= 3, sentence.count <= 600 else { continue }
                let context = heading.isEmpty || heading == sentence ? passage.hit.title : passage.hit.title + " — " + heading
                candidates.append(Candidate(passage: passage.number, position: position, text: sentence, context: context, score: 0, vector: []))
                if candidates.count >= 120 { break }
            }
        }
        guard !candidates.isEmpty else { return "" }
        let vectors = try await embedder.embed([request.question] + candidates.map { $0.context + ": " + $0.text })
        let question = vectors[0]
        let wantsFigure = Self.asksForFigure(request.question)
        for index in candidates.indices {
            let vector = vectors[index + 1]
            let terms = Set(analyzer.terms(candidates[index].context + " " + candidates[index].text))
            let overlap = questionTerms.isEmpty ? 0 : Double(questionTerms.intersection(terms).count) / Double(questionTerms.count)
            candidates[index].vector = vector
            candidates[index].score = Double(Self.dot(question, vector)) + 0.3 * overlap
            // "What is the limit…", "how many days…": an answer states a figure.
            if wantsFigure, candidates[index].text.contains(where: \.isNumber) { candidates[index].score += 0.08 }
        }
        // FAQ layout: the sentence right after a matching question is its answer.
        for index in candidates.indices.dropFirst() {
            let before = candidates[index - 1]
            if before.isQuestion, before.passage == candidates[index].passage, !candidates[index].isQuestion {
                candidates[index].score = max(candidates[index].score, before.score - 0.05)
            }
        }
        let ranked = candidates.filter { !$0.isQuestion && $0.text.split(separator: " ").count >= 4 }.sorted { $0.score > $1.score }
        guard let best = ranked.first, best.score >= sentenceThreshold else { return "" }
        var chosen: [Candidate] = [best]
        var length = best.text.count
        for candidate in ranked.dropFirst() where chosen.count < maximumSentences {
            guard candidate.score >= max(sentenceThreshold, best.score - spread) else { break }
            guard length + candidate.text.count <= maximumCharacters else { continue }
            guard !chosen.contains(where: { Self.dot($0.vector, candidate.vector) > 0.9 }) else { continue }
            chosen.append(candidate)
            length += candidate.text.count
        }
        chosen.sort { ($0.passage, $0.position) < ($1.passage, $1.position) }
        return chosen.map { Self.cite($0.text, $0.passage) }.joined(separator: " ")
    }

    static let figureWords: Set<String> = [
        "limit", "limits", "threshold", "rate", "rates", "amount", "maximum", "minimum", "deadline", "cut-off", "cutoff", "allowance", "much",
        "many", "long", "when", "date", "day", "days", "percent", "percentage", "fee", "cost", "price", "budget", "per",
    ]

    /// Whether the question asks for a number, an amount, a date or a duration.
    static func asksForFigure(_ question: String) -> Bool {
        question.lowercased().split { !$0.isLetter && $0 != "-" }.contains { figureWords.contains(String($0)) }
    }

    /// "The limit is 10,000 EUR [2]." — the marker goes before the closing punctuation.
    static func cite(_ sentence: String, _ number: Int) -> String {
        var text = sentence
        var ending = ""
        while let last = text.last, ".!?:;".contains(last) {
            ending = String(last) + ending
            text.removeLast()
        }
        return text + " [\(number)]" + (ending.isEmpty ? "." : ending)
    }

    static func dot(_ a: [Float], _ b: [Float]) -> Float {
        var sum: Float = 0
        for i in 0..<min(a.count, b.count) { sum += a[i] * b[i] }
        return sum
    }
}
