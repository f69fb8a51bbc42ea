/// A citation as it is stored with an answer (and shown in the history): the passage the `[n]` marker points to.
public struct StoredCitation: Codable, Sendable, Equatable {
    public var n: Int
    public var documentId: String
    public var title: String
    /// The passage on one line, at most 240 characters.
    public var snippet: String
    public var passage: String
    public var start: Int
    public var end: Int
    public var score: Double

    public init(n: Int, documentId: String, title: String, snippet: String, passage: String, start: Int, end: Int, score: Double) {
        self.n = n
        self.documentId = documentId
        self.title = title
        self.snippet = snippet
        self.passage = passage
        self.start = start
        self.end = end
        self.score = score
    }

    /// The passage flattened to one line and cut at 240 characters.
    public static func snippet(_ passage: String) -> String {
        let flat = passage.split(whereSeparator: \.isNewline).joined(separator: " ")
        return flat.count > 240 ? String(flat.prefix(237)) + "…" : flat
    }
}
