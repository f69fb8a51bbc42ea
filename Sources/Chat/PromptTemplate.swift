import Foundation
public import Storage

/// An admin-editable prompt with `{{placeholder}}`s, checked before it is stored and filled in one pass (a value
/// that itself contains `{{…}}`, such as a passage or a question, is never expanded again).
public struct PromptTemplate: Sendable, Equatable {
    /// A prompt Omnifin uses, with what its template must and may contain.
    public struct Kind: Sendable {
        public var required: Set<String>
        public var optional: Set<String>
        public var purpose: String
        public var defaultTemplate: String
    }

    public static let kinds: [String: Kind] = [
        "answer": Kind(
            required: ["context", "question"], optional: ["history"],
            purpose: "the instructions and layout of a grounded answer",
            defaultTemplate: """
                You are Omnifin, the assistant of a finance team. Answer the question using only the numbered passages \
                from the knowledge bank below. After each sentence that uses a passage, cite it as [n]. If the passages \
                do not contain the answer, say that the knowledge bank has no answer; do not guess.

                Passages:
                {{context}}

                Conversation so far:
                {{history}}

                Question: {{question}}
                """),
        "rewrite": Kind(
            required: ["question", "history"], optional: [],
            purpose: "turning a follow-up question into a standalone search query",
            defaultTemplate: """
                Rewrite the last question of this conversation as one standalone search query that keeps every name, \
                number and term needed to understand it. Reply with the query only.

                Conversation:
                {{history}}

                Last question: {{question}}
                """),
    ]

    public static let maximumLength = 20_000

    public let name: String
    public let text: String

    public struct Invalid: Error {
        public var message: String
    }

    /// - Throws: ``Invalid`` naming the unknown or missing placeholder, or the unclosed brace.
    public init(name: String, text: String) throws(Invalid) {
        guard let kind = Self.kinds[name] else {
            throw Invalid(message: "unknown prompt '\(name)'; the prompts are \(Self.kinds.keys.sorted().joined(separator: ", "))")
        }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, text.count <= Self.maximumLength else {
            throw Invalid(message: "the template must have 1 to \(Self.maximumLength) characters")
        }
        let used = try Self.placeholders(in: text)
        let allowed = kind.required.union(kind.optional)
        if let unknown = used.first(where: { !allowed.contains($0) }) {
            throw Invalid(
                message: "unknown placeholder {{\(unknown)}}; '\(name)' may use " + allowed.sorted().map { "{{\($0)}}" }.joined(separator: ", "))
        }
        if let missing = kind.required.subtracting(used).sorted().first {
            throw Invalid(message: "the '\(name)' template must contain {{\(missing)}}")
        }
        self.name = name
        self.text = text
    }

    /// The placeholder names in order of appearance.
    public static func placeholders(in text: String) throws(Invalid) -> [String] {
        var names: [String] = []
        var rest = text[...]
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { throw Invalid(message: "a '{{' is never closed by '}}'") }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0 == "_" }) else {
                throw Invalid(message: "'{{\(rest[open.upperBound..<close.lowerBound])}}' is not a placeholder name")
            }
            names.append(name)
            rest = rest[close.upperBound...]
        }
        return names
    }

    /// The template with each placeholder replaced by its value (absent values become empty).
    public func render(_ values: [String: String]) -> String {
        var output = ""
        var rest = text[...]
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            output += rest[..<open.lowerBound]
            output += values[rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)] ?? ""
            rest = rest[close.upperBound...]
        }
        return output + rest
    }

    /// Stores each prompt's default template as its first, active version where the prompt has none yet.
    public static func seedDefaults(_ store: any PromptStore) async throws {
        for (name, kind) in kinds.sorted(by: { $0.key < $1.key }) where try await store.prompts(name: name).isEmpty {
            _ = try await store.addPromptVersion(name: name, template: kind.defaultTemplate, createdBy: nil, activate: true, at: Date())
        }
    }
}
