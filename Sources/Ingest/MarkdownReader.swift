import Foundation
public import Retrieval

/// A problem with one input, located precisely enough to fix it.
public struct IngestIssue: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based line (or record number for formats without lines).
    public var line: Int?
    public var reason: String

    public init(file: String, line: Int?, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(reason)" }
}

/// Markdown files with an optional YAML front matter block, as written by knowledge managers and static-site
/// tools:
///
/// ```
/// ---
/// title: Invoice approval policy
/// tags: [accounts-payable, approvals]
/// owner: Accounts Payable
/// ---
/// # Invoice approval policy
/// …
/// ```
///
/// The front matter is the flat subset of YAML such files use (`key: value`, quoted strings, `[a, b]` lists,
/// comments); anything nested is reported with its line rather than guessed at. The title is the front
/// matter's `title`, else the first `# ` heading, else the file name; a leading `# ` heading is not repeated in
/// the body. `tags` become the document's tags; the other keys its metadata.
public enum MarkdownReader {
    /// - Parameters:
    ///   - text: the file's contents.
    ///   - name: the file name, used as the external id and as the fallback title.
    ///   - source: the knowledge bank source the document belongs to.
    /// - Throws: ``IngestIssue`` for a front matter block that is not closed or not flat `key: value` lines.
    public static func document(_ text: String, name: String, source: String) throws(IngestIssue) -> DocumentInput {
        var lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.first?.hasPrefix("\u{FEFF}") == true { lines[0].removeFirst() }
        var fields: [String: String] = [:]
        var tags: [String] = []
        if lines.first?.trimmingCharacters(in: .whitespaces) == "---" {
            guard let end = lines.dropFirst().firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "---" || $0 == "..." }) else {
                throw IngestIssue(file: name, line: 1, reason: "the front matter that starts here is never closed by a '---' line")
            }
            for index in 1..<end {
                let line = lines[index]
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
                guard !line.hasPrefix(" "), !line.hasPrefix("\t"), let colon = line.firstIndex(of: ":") else {
                    throw IngestIssue(file: name, line: index + 1, reason: "front matter lines must be 'key: value' (nested YAML is not supported)")
                }
                let key = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                let raw = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                    throw IngestIssue(file: name, line: index + 1, reason: "'\(key)' is not a front matter key")
                }
                if raw.hasPrefix("[") {
                    guard raw.hasSuffix("]") else { throw IngestIssue(file: name, line: index + 1, reason: "the list of '\(key)' is not closed by ']'") }
                    let items = raw.dropFirst().dropLast().split(separator: ",").map { unquote($0.trimmingCharacters(in: .whitespaces)) }
                        .filter { !$0.isEmpty }
                    if key == "tags" { tags = items } else { fields[key] = items.joined(separator: ", ") }
                } else if key == "tags" {
                    tags = raw.split(separator: ",").map { unquote($0.trimmingCharacters(in: .whitespaces)) }.filter { !$0.isEmpty }
                } else {
                    fields[key] = unquote(raw)
                }
            }
            lines.removeSubrange(0...end)
        }
        var title = fields.removeValue(forKey: "title") ?? ""
        if let first = lines.firstIndex(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }), lines[first].hasPrefix("# ") {
            let heading = lines[first].dropFirst(2).trimmingCharacters(in: .whitespaces)
            if title.isEmpty { title = heading }
            if heading == title { lines.remove(at: first) }
        }
        if title.isEmpty {
            let stem = name.split(separator: "/").last.map(String.init) ?? name
            title = String(stem.prefix { $0 != "." }).replacingOccurrences(of: "-", with: " ").replacingOccurrences(of: "_", with: " ")
        }
        var metadata = fields
        let cleanedTags = tags.map { $0.replacingOccurrences(of: ",", with: " ") }.filter { !$0.isEmpty }
        if !cleanedTags.isEmpty { metadata["tags"] = cleanedTags.joined(separator: ",") }
        return DocumentInput(
            source: source, externalID: name, title: title, body: lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines),
            metadata: metadata)
    }

    private static func unquote(_ value: String) -> String {
        if value.count >= 2, (value.hasPrefix("\"") && value.hasSuffix("\"")) || (value.hasPrefix("'") && value.hasSuffix("'")) {
            return String(value.dropFirst().dropLast())
        }
        // A trailing comment (` # …`) is not part of the value.
        if let comment = value.range(of: " #") { return value[..<comment.lowerBound].trimmingCharacters(in: .whitespaces) }
        return value
    }
}
