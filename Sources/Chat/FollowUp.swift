import Retrieval

/// The built-in follow-up rule.
enum FollowUp {
    static let referring: Set<String> = [
        "it", "its", "it's", "that", "this", "those", "these", "they", "them", "their", "there", "he", "she", "him", "her", "one", "ones", "same",
        "also", "too", "else", "instead",
    ]
    static let openers = ["and ", "what about", "how about", "and what", "but ", "or ", "then "]

    static func looksLikeFollowUp(_ question: String) -> Bool {
        let lower = question.lowercased()
        if openers.contains(where: { lower.hasPrefix($0) }) { return true }
        let words = lower.split { !$0.isLetter && $0 != "'" }.map(String.init)
        return words.count <= 12 && words.contains(where: referring.contains)
    }

    /// Words that make a question without saying what it is about.
    static let questionWords: Set<String> = [
        "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "do", "does", "did", "can", "could", "should", "would", "may",
        "must", "is", "are", "am", "was", "were", "i", "me", "my", "we", "our", "you", "your", "much", "many",
    ]

    /// The question followed by the previous question's content words it lacks.
    static func carryTerms(from previous: String, into question: String) -> String {
        let analyzer = EnglishAnalyzer(stopWords: EnglishAnalyzer.defaultStopWords.union(questionWords))
        let present = Set(analyzer.terms(question))
        var carried: [String] = []
        for word in previous.split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "-" }).map(String.init) {
            let terms = analyzer.terms(word)
            guard let term = terms.first, !present.contains(term), !carried.contains(word) else { continue }
            carried.append(word)
        }
        return carried.isEmpty ? question : question + " " + carried.joined(separator: " ")
    }
}
