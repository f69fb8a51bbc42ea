import Foundation
import Retrieval

/// Builds the recogniser's language model from the knowledge bank's own text, so finance terms ("approval limit",
/// "expense report", "accruals") are expected rather than misheard: a trigram model with interpolated absolute
/// discounting, written as ARPA text, over the words the pronunciation dictionary knows, plus a built-in corpus of
/// general question phrasing.
enum LanguageModelBuilder {
    /// How people ask things, so questions are likely even though the documents are statements. Generic on purpose:
    /// no question of the voice benchmark is in it.
    static let questionPhrasing = [
        "what is the", "what are the", "what is our", "what is my", "how do i", "how can i", "how long do i have to", "how much is the",
        "how many", "who approves", "who is responsible for", "who do i contact about", "when is", "when are", "when do i", "where do i",
        "can i", "do i need", "is there a", "what happens if", "what should i do if", "tell me about the", "explain the", "what is the deadline for",
        "what is the limit for", "what is the policy on", "what is the rate for", "who signs", "which form do i use", "how often",
    ]

    /// The dictionary's words (the first token of each line, alternates such as `read(2)` folded).
    static func dictionaryWords(_ path: String) -> Set<String> {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        var words = Set<String>()
        for line in text.split(separator: "\n") {
            guard let word = line.split(separator: " ").first else { continue }
            words.insert(String(word.prefix { $0 != "(" }))
        }
        return words
    }

    /// Sentences as word lists: lower case, words the dictionary lacks (and numbers) split the sentence.
    static func sentences(_ texts: [String], vocabulary: Set<String>) -> [[String]] {
        var result: [[String]] = []
        for text in texts {
            for line in text.lowercased().split(whereSeparator: { $0 == "\n" || $0 == "." || $0 == "?" || $0 == "!" || $0 == ";" || $0 == ":" }) {
                var current: [String] = []
                for raw in line.split(whereSeparator: { !($0.isLetter || $0 == "'") }) {
                    let word = raw.trimmingCharacters(in: CharacterSet(charactersIn: "'"))
                    if vocabulary.contains(word) {
                        current.append(word)
                    } else if !current.isEmpty {
                        result.append(current)
                        current = []
                    }
                }
                if !current.isEmpty { result.append(current) }
            }
        }
        return result
    }

    /// The ARPA text of the model over `texts`.
    /// - Complexity: O(words) to count; the model holds every n-gram seen.
    static func arpa(texts: [String], vocabulary: Set<String>, discount: Double = 0.5) -> String {
        // Question phrasing weighs as much as five documents' worth of mentions: questions are what is spoken.
        let corpus = sentences(texts + Array(repeating: questionPhrasing, count: 5).flatMap { $0 }, vocabulary: vocabulary)
        var unigrams: [String: Int] = [:]
        var bigrams: [[String]: Int] = [:]
        var trigrams: [[String]: Int] = [:]
        for sentence in corpus {
            let words = ["<s>"] + sentence + ["</s>"]
            for (index, word) in words.enumerated() {
                unigrams[word, default: 0] += 1
                if index >= 1 { bigrams[[words[index - 1], word], default: 0] += 1 }
                if index >= 2 { trigrams[[words[index - 2], words[index - 1], word], default: 0] += 1 }
            }
        }
        let total = Double(unigrams.values.reduce(0, +) - (unigrams["<s>"] ?? 0))
        let vocabularySize = Double(unigrams.count)
        // Unigrams: add-one smoothed (every word of the model stays reachable).
        var p1: [String: Double] = [:]
        for (word, count) in unigrams where word != "<s>" { p1[word] = (Double(count) + 1) / (total + vocabularySize) }
        // Histories: their counts and how many different words follow them.
        var historyCount: [[String]: Int] = [:]
        var followers: [[String]: Int] = [:]
        for (gram, count) in bigrams {
            historyCount[[gram[0]], default: 0] += count
            followers[[gram[0]], default: 0] += 1
        }
        for (gram, count) in trigrams {
            historyCount[[gram[0], gram[1]], default: 0] += count
            followers[[gram[0], gram[1]], default: 0] += 1
        }
        func gamma(_ history: [String]) -> Double {
            guard let count = historyCount[history], count > 0 else { return 1 }
            return discount * Double(followers[history] ?? 0) / Double(count)
        }
        var p2: [[String]: Double] = [:]
        for (gram, count) in bigrams {
            let history = Double(historyCount[[gram[0]]] ?? 1)
            p2[gram] = max(Double(count) - discount, 0) / history + gamma([gram[0]]) * (p1[gram[1]] ?? 1e-7)
        }
        var p3: [[String]: Double] = [:]
        for (gram, count) in trigrams {
            let history = Double(historyCount[[gram[0], gram[1]]] ?? 1)
            let lower = p2[[gram[1], gram[2]]] ?? gamma([gram[1]]) * (p1[gram[2]] ?? 1e-7)
            p3[gram] = max(Double(count) - discount, 0) / history + gamma([gram[0], gram[1]]) * lower
        }
        func log10(_ value: Double) -> String { String(format: "%.4f", Foundation.log10(max(value, 1e-99))) }
        var lines = ["\\data\\", "ngram 1=\(unigrams.count)", "ngram 2=\(p2.count)", "ngram 3=\(p3.count)", "", "\\1-grams:"]
        for word in unigrams.keys.sorted() {
            let probability = word == "<s>" ? "-99.0000" : log10(p1[word] ?? 1e-7)
            lines.append("\(probability) \(word) \(log10(gamma([word])))")
        }
        lines += ["", "\\2-grams:"]
        for gram in p2.keys.sorted(by: { $0.joined(separator: " ") < $1.joined(separator: " ") }) {
            lines.append("\(log10(p2[gram]!)) \(gram.joined(separator: " ")) \(log10(gamma(gram)))")
        }
        lines += ["", "\\3-grams:"]
        for gram in p3.keys.sorted(by: { $0.joined(separator: " ") < $1.joined(separator: " ") }) {
            lines.append("\(log10(p3[gram]!)) \(gram.joined(separator: " "))")
        }
        lines += ["", "\\end\\", ""]
        return lines.joined(separator: "\n")
    }
}
