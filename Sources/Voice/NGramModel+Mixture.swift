extension NGramModel {
    /// Static linear interpolation of backoff models over one vocabulary, as SRILM's `ngram -mix-lm` writes it: the
    /// mixture lists every n-gram any component lists, with P(w | h) = Σ λi Pi(w | h) (each component backing off as
    /// it would), the unigrams renormalised, and each history's backoff weight set so that its words again sum to 1:
    /// bow(h) = (1 - Σ P(w | h)) / (1 - Σ P(w | h')) over the words listed after h.
    /// - Parameters:
    ///   - components: models and their weights (summing to 1), all of the same order.
    ///   - vocabularySize: every id below it gets a unigram.
    /// - Complexity: O(listed n-grams × components × order).
    public static func mixture(_ components: [(model: NGramModel, weight: Double)], vocabularySize: Int) -> NGramModel {
        let order = components.map(\.model.order).max() ?? 1
        var mixed = NGramModel(order: order)
        for n in 1...order {
            var keys = Set<UInt64>()
            for (model, _) in components where n <= model.order { keys.formUnion(model.probabilities[n - 1].keys) }
            if n == 1 { keys.formUnion((0..<vocabularySize).map { UInt64($0) }) }
            var level: [UInt64: Double] = [:]
            level.reserveCapacity(keys.count)
            for key in keys {
                var probability = 0.0
                for (model, weight) in components { probability += weight * model.probability(key, order: n) }
                level[key] = probability
            }
            mixed.probabilities[n - 1] = level
        }
        // Unigrams: the words (not `<s>`) sum to 1.
        let start = UInt64(NGramVocabulary.start)
        var total = 0.0
        for (key, probability) in mixed.probabilities[0] where key != start { total += probability }
        for key in mixed.probabilities[0].keys { mixed.probabilities[0][key]! /= total }
        mixed.probabilities[0][start] = 0
        if order > 1 {
            for n in 2...order {
                var listed: [UInt64: Double] = [:]
                var lower: [UInt64: Double] = [:]
                for (key, probability) in mixed.probabilities[n - 1] {
                    let history = NGramKey.history(key)
                    listed[history, default: 0] += probability
                    lower[history, default: 0] += mixed.probability(NGramKey.suffix(key, order: n), order: n - 1)
                }
                var weights: [UInt64: Double] = [:]
                var crowded: [UInt64: Double] = [:]
                for (history, sum) in listed {
                    var left = 1 - sum
                    let lowerLeft = 1 - lower[history]!
                    if left <= 1e-6 || lowerLeft <= 1e-6 {
                        // The listed words take (nearly) all the mass: scaled down a little, so backing off stays possible.
                        crowded[history] = sum > 0 ? (1 - 1e-3) / sum : 1
                        if left <= 1e-6 { left = 1e-3 }
                        weights[history] = left / max(lowerLeft, 1e-6)
                    } else {
                        weights[history] = left / lowerLeft
                    }
                }
                if !crowded.isEmpty {
                    for (key, probability) in mixed.probabilities[n - 1] {
                        if let scale = crowded[NGramKey.history(key)] { mixed.probabilities[n - 1][key] = probability * scale }
                    }
                }
                mixed.backoffs[n - 2] = weights
            }
        }
        return mixed
    }
}
