import Foundation
public import Retrieval

/// A passage as the answer sees it: numbered from 1 in the order it appears in the prompt.
public struct NumberedPassage: Sendable, Equatable {
    public var number: Int
    public var hit: KnowledgeHit

    public init(number: Int, hit: KnowledgeHit) {
        self.number = number
        self.hit = hit
    }
}

/// Everything a generator needs for one answer.
public struct GenerationRequest: Sendable {
    public var question: String
    public var passages: [NumberedPassage]
    /// The active `answer` template filled in with the passages, the history and the question.
    public var prompt: String
    /// The asker's rights: a generator that reads more of the knowledge bank than the passages reads under them.
    public var rights: AccessRights

    public init(question: String, passages: [NumberedPassage], prompt: String, rights: AccessRights = AccessRights(userID: nil, role: .user)) {
        self.question = question
        self.passages = passages
        self.prompt = prompt
        self.rights = rights
    }
}

/// Writes the answer, token by token. Markers `[n]` refer to the request's passage numbers.
public protocol AnswerGenerator: Sendable {
    /// `builtin` or `llm:MODEL`, stored with every answer.
    var name: String { get }
    /// Streams the answer; cancelling the consuming task stops the generation (and the upstream request).
    func generate(_ request: GenerationRequest) -> AsyncThrowingStream<String, any Error>
    /// Whether the generator can answer now (the LLM API answers), for `/api/chat/status`.
    func checkReachable() async -> Bool
}

/// Why generation failed: the provider answered badly, did not answer in time, or had no room for the turn
/// (``ChatError`` carries it on).
public struct GenerationError: Error, CustomStringConvertible {
    public enum Kind: Sendable { case providerFailed, timedOut, busy }
    public var kind: Kind
    public var description: String
    /// Worth another attempt (connection refused, 429, 5xx) as long as no token went out.
    public var retryable = false
    public var retryAfter: Double? = nil

    public init(kind: Kind, description: String, retryable: Bool = false, retryAfter: Double? = nil) {
        self.kind = kind
        self.description = description
        self.retryable = retryable
        self.retryAfter = retryAfter
    }
}

/// Keeps citation markers honest: only `[n]` for passages that were in the prompt survive.
public enum Citations {
    /// The text with markers that point nowhere removed (also inside `[1, 7]` lists), and the numbers it cites.
    public static func clean(_ text: String, validNumbers: Set<Int>) -> (text: String, cited: [Int]) {
        var output = ""
        var cited: [Int] = []
        var rest = text[...]
        while let open = rest.firstIndex(of: "[") {
            output += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "]"), rest.distance(from: open, to: close) <= 40 else {
                output += rest[open...open]
                rest = rest[rest.index(after: open)...]
                continue
            }
            let inside = rest[rest.index(after: open)..<close]
            let parts = inside.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let numbers = parts.compactMap { Int($0) }
            if !parts.isEmpty, numbers.count == parts.count {
                // A marker list: keep the valid numbers, drop the marker when none is.
                let valid = numbers.filter(validNumbers.contains)
                if !valid.isEmpty {
                    output += valid.map { "[\($0)]" }.joined()
                    for number in valid where !cited.contains(number) { cited.append(number) }
                } else if output.last == " " {
                    output.removeLast()
                }
            } else {
                output += rest[open...close]
            }
            rest = rest[rest.index(after: close)...]
        }
        output += rest
        return (output, cited)
    }
}
