extension NGramModel {
    /// Interpolated modified Kneser-Ney (Chen and Goodman, 1999) over sentences of word ids.
    ///
    /// Counts are raw for the top order and for n-grams starting with `<s>`, continuation counts N1+(• g) below (at
    /// least 1). Each order has three discounts from its counts of counts (Y = n1 / (n1 + 2 n2), Dk = k - (k + 1) Y
    /// n(k+1) / nk, kept within [`minimumDiscount`, k]). P(w | h) = max(c(hw) - D, 0) / c(h•) + γ(h) P(w | h'), with
    /// γ(h) = (D1 N1(h•) + D2 N2(h•) + D3 N3+(h•)) / c(h•), and the unigrams interpolate with the uniform distribution
    /// over the vocabulary and `</s>`. Every history's backoff weight is its γ, so the listed probabilities with the
    /// backoffs sum to 1 over the vocabulary and `</s>` for every history.
    /// - Parameters:
    ///   - sentences: word ids without `<s>` and `</s>`, which are added.
    ///   - vocabularySize: ids run from 0 to `vocabularySize - 1`, `<s>` and `</s>` included; the unigrams cover
    ///     every word, seen or not.
    /// - Complexity: O(words × order) expected.
    public static func kneserNey(sentences: [[Int32]], vocabularySize: Int, order: Int = 3, minimumDiscount: Double = 0.1) -> NGramModel {
        // Raw counts of every order; `<s>` is never predicted, so it has no unigram.
        var counts = [[UInt64: Int]](repeating: [:], count: order)
        for sentence in sentences {
            let words = [NGramVocabulary.start] + sentence + [NGramVocabulary.end]
            for n in 1...order where words.count >= n {
                for index in 0...(words.count - n) {
                    if n == 1 && words[index] == NGramVocabulary.start { continue }
                    counts[n - 1][NGramKey.make(words[index..<(index + n)]), default: 0] += 1
                }
            }
        }
        // Adjusted counts: raw at the top order and after `<s>`, otherwise how many different words precede.
        var adjusted = counts
        if order > 1 {
            for n in stride(from: order - 1, through: 1, by: -1) {
                var preceded: [UInt64: Int] = [:]
                for key in counts[n].keys { preceded[NGramKey.suffix(key, order: n + 1), default: 0] += 1 }
                var level: [UInt64: Int] = [:]
                for (key, count) in counts[n - 1] {
                    let value = n > 1 && NGramKey.first(key, order: n) == NGramVocabulary.start ? count : (preceded[key] ?? 0)
                    // Seen, but only right after `<s>`: counted once.
                    level[key] = max(value, 1)
                }
                adjusted[n - 1] = level
            }
        }
        let predicted = vocabularySize - 1
        var model = NGramModel(order: order)
        for n in 1...order {
            let discounts = Self.discounts(adjusted[n - 1].values, minimum: minimumDiscount)
            // Per history: the total count and how many words follow it once, twice, three times or more.
            var totals: [UInt64: (count: Int, once: Int, twice: Int, more: Int)] = [:]
            for (key, count) in adjusted[n - 1] {
                let history = n == 1 ? 0 : NGramKey.history(key)
                var total = totals[history] ?? (0, 0, 0, 0)
                total.count += count
                switch count {
                case 1: total.once += 1
                case 2: total.twice += 1
                default: total.more += 1
                }
                totals[history] = total
            }
            func gamma(_ history: UInt64) -> Double {
                let total = totals[history]!
                return (discounts.0 * Double(total.once) + discounts.1 * Double(total.twice) + discounts.2 * Double(total.more)) / Double(total.count)
            }
            var level: [UInt64: Double] = [:]
            level.reserveCapacity(adjusted[n - 1].count + (n == 1 ? predicted : 0))
            for (key, count) in adjusted[n - 1] {
                let history = n == 1 ? 0 : NGramKey.history(key)
                let discount = count == 1 ? discounts.0 : count == 2 ? discounts.1 : discounts.2
                let lower = n == 1 ? 1.0 / Double(predicted) : model.probability(NGramKey.suffix(key, order: n), order: n - 1)
                level[key] = (Double(count) - discount) / Double(totals[history]!.count) + gamma(history) * lower
            }
            if n == 1 {
                let unseen = (totals[0].map { _ in gamma(0) } ?? 1) / Double(predicted)
                for id in 1..<Int32(vocabularySize) where level[UInt64(id)] == nil { level[UInt64(id)] = unseen }
                level[UInt64(NGramVocabulary.start)] = 0
            } else {
                var weights: [UInt64: Double] = [:]
                for history in totals.keys { weights[history] = gamma(history) }
                model.backoffs[n - 2] = weights
            }
            model.probabilities[n - 1] = level
        }
        return model
    }

    /// D1, D2 and D3+ from the counts of counts (0.5, 1, 1.5 when one of n1 … n4 is zero).
    public static func discounts(_ counts: some Sequence<Int>, minimum: Double) -> (Double, Double, Double) {
        var ofCount = [0, 0, 0, 0, 0]
        for count in counts where count <= 4 { ofCount[count] += 1 }
        let (n1, n2, n3, n4) = (Double(ofCount[1]), Double(ofCount[2]), Double(ofCount[3]), Double(ofCount[4]))
        guard n1 > 0, n2 > 0, n3 > 0, n4 > 0 else { return (0.5, 1.0, 1.5) }
        let y = n1 / (n1 + 2 * n2)
        func discount(_ k: Double, _ nk: Double, _ next: Double) -> Double { max(minimum, min(k, k - (k + 1) * y * next / nk)) }
        return (discount(1, n1, n2), discount(2, n2, n3), discount(3, n3, n4))
    }
}
