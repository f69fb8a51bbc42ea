import Foundation

/// Reads the citation formats language models actually write and rewrites them as Omnifin's `[n]` markers, so that
/// ``Citations/clean(_:validNumbers:)`` and the claim check see one format: `[1][2]` and `[1, 2]` (already
/// markers), `[1-3]`, `【1】` and `【1†source】`, `[^1]`, `(1)` and `(1, 2)` after a word, `Source 1`, `[Source 2]`,
/// `(Sources 1 and 3)`, `[Passage 2]`, `[doc2]`, and `[Source: Travel policy]` or `[Travel policy]` naming a
/// passage's title. A number that points at no passage is left for the cleaning step to drop.
public enum CitationFormats {
    /// `text` with every recognised citation written as `[n]` markers.
    ///
    /// Every pattern has bounded repetition (white space at most three characters, `{0,3}`) and no two unbounded
    /// quantifiers next to each other: a model that writes `(` followed by thousands of spaces must not make a
    /// backtracking matcher take minutes (`make fuzz`, target `answer`).
    public static func normalized(_ text: String, titles: [Int: String]) -> String {
        var text = text
        // 【1】, 【1†source】, 【1:2†source】.
        text = text.replacing(/【[ \t]{0,3}(\d{1,4})[^】]{0,40}】/) { "[\($0.1)]" }
        // [^1] footnotes.
        text = text.replacing(/\[\^(\d{1,4})\]/) { "[\($0.1)]" }
        // [1-3], [1–3]: a range.
        text = text.replacing(/\[(\d{1,4})[ \t]{0,3}[-–][ \t]{0,3}(\d{1,4})\]/) { match in
            guard let low = Int(match.1), let high = Int(match.2), low <= high, high - low < 10 else { return String(match.0) }
            return (low...high).map { "[\($0)]" }.joined()
        }
        // [Source 2], (Sources 1 and 3), [Passage 2], [doc2], [Document 3], [Ref. 1].
        text = text.replacing(
            /(?i)[\[(][ \t]{0,3}(?:sources?|passages?|docs?|documents?|refs?\.?|references?|context):?[ \t]{0,3}#?(\d{1,4}(?:[ \t]{0,3}(?:,|and|&)[ \t]{0,3}\d{1,4}){0,9})[ \t]{0,3}[\])]/
        ) { match in
            markers(String(match.1))
        }
        // Source 1, Sources: 1, 2 without brackets.
        text = text.replacing(/(?i)\bsources?:?[ \t]{0,3}#?(\d{1,4}(?:[ \t]{0,3}(?:,|and|&)[ \t]{0,3}\d{1,4}){0,9})\b/) { match in
            markers(String(match.1))
        }
        // (1), (1, 2) after a word and before the end of a clause or line: not "(1) First step" of a list.
        text = text.replacing(
            /([\p{L}\p{N}.,;:!?%)\]])([ \t]{0,3})\((\d{1,4}(?:,[ \t]{0,3}\d{1,4}){0,9})\)(?=[.,;:!?]|[ \t]{0,3}(?:\n|$))/
        ) { match in
            String(match.1) + String(match.2) + markers(String(match.3))
        }
        // [Source: Travel policy], (Source: Travel policy), [Travel policy]: a passage's title. One bounded run between
        // the brackets; the words before the title are taken off in code.
        guard !titles.isEmpty else { return text }
        let byTitle = Dictionary(titles.map { (key(for: $0.value), $0.key) }, uniquingKeysWith: min)
        text = text.replacing(/[\[(]([^\[\]()\n]{2,200})[\])]/) { match in
            var inside = String(match.1).trimmingCharacters(in: .whitespaces)
            for prefix in ["source", "document", "passage"] where inside.lowercased().hasPrefix(prefix) {
                inside = String(inside.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
                if inside.hasPrefix(":") { inside = String(inside.dropFirst()).trimmingCharacters(in: .whitespaces) }
                break
            }
            guard let number = byTitle[key(for: inside)] else { return String(match.0) }
            return "[\(number)]"
        }
        return text
    }

    /// `1, 2 and 3` → `[1][2][3]`.
    static func markers(_ list: String) -> String {
        list.split(whereSeparator: { !$0.isNumber }).map { "[\($0)]" }.joined()
    }

    /// A title compared without case, quotes and surrounding punctuation.
    static func key(for title: String) -> String {
        title.lowercased().trimmingCharacters(in: CharacterSet.alphanumerics.inverted)
            .replacingOccurrences(of: "\"", with: "").replacingOccurrences(of: "“", with: "").replacingOccurrences(of: "”", with: "")
    }
}
