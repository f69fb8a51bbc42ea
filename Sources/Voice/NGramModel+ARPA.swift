import Foundation

extension NGramModel {
    /// The model as ARPA text: log10 probabilities and backoff weights with five decimals, n-grams sorted by their
    /// words' code points, every n-gram below the top order with a backoff weight (0 when it is no history).
    /// - Complexity: O(n-grams × log n-grams) for the sorting.
    public func arpa(_ vocabulary: NGramVocabulary) -> String {
        let ranks = vocabulary.ranks()
        func log10Text(_ value: Double) -> String { value > 0 ? String(format: "%.5f", Foundation.log10(value)) : "-99.00000" }
        var text = "\\data\\\n"
        for n in 1...order { text += "ngram \(n)=\(probabilities[n - 1].count)\n" }
        for n in 1...order {
            text += "\n\\\(n)-grams:\n"
            // Sorting by the words' ranks packed like the ids sorts the n-grams as their words sort.
            let sorted = probabilities[n - 1].keys.map { key in
                (NGramKey.make(NGramKey.ids(key, order: n).map { Int32(ranks[Int($0)]) }), key)
            }.sorted { $0.0 < $1.0 }
            for (_, key) in sorted {
                text += log10Text(probabilities[n - 1][key]!)
                for id in NGramKey.ids(key, order: n) { text += " " + vocabulary.words[Int(id)] }
                if n < order {
                    text += backoffs[n - 1][key].map { " " + String(format: "%.5f", Foundation.log10($0)) } ?? " 0.00000"
                }
                text += "\n"
            }
        }
        text += "\n\\end\\\n"
        return text
    }
}
