/// The words of a question that tell what it is about, weighted by how rare they are in the knowledge bank.
enum QuestionTerms {
    /// The question's words that tell what it is about, with their weight (idf; an unknown word weighs as the
    /// rarest) and the terms that count as saying them (stems of synonyms).
    static func telling(_ weights: [(term: String, idf: Double?)]) -> [(term: String, weight: Double, alternatives: [String])] {
        let known = weights.compactMap(\.idf)
        let rarest = max(known.max() ?? 0, 4)
        var seen = Set<String>()
        var result: [(term: String, weight: Double, alternatives: [String])] = []
        for (term, idf) in weights where !seen.contains(term) && !Thesaurus.questionWords.contains(term) && term.count > 1 && !term.contains(where: \.isNumber) {
            seen.insert(term)
            let alternatives = [term] + (Thesaurus.alternatives[term] ?? [])
            // A word the bank does not know and no synonym of which it knows weighs as much as the rarest known word.
            result.append((term, idf ?? rarest, alternatives))
        }
        return result
    }
}
