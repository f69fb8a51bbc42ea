import Foundation

/// Texts to embed, from a TSV (the second column) or JSON Lines (the `text` field).
public enum TextFile {
    /// - Throws: ``BenchmarkError`` naming the file and line of the first unusable row.
    public static func read(_ path: String, limit: Int? = nil) throws -> [String] {
        guard let content = try? String(contentsOfFile: path, encoding: .utf8) else { throw BenchmarkError("cannot read \(path) as UTF-8 text") }
        let isJSONLines = path.hasSuffix(".jsonl") || path.hasSuffix(".ndjson")
        guard isJSONLines || path.hasSuffix(".tsv") else {
            throw BenchmarkError("\(path): give a .tsv (texts in the second column) or a .jsonl (a \"text\" field per line)")
        }
        var texts = [String]()
        var lineNumber = 0
        for line in content.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if let limit, texts.count >= limit { break }
            if line.isEmpty { continue }
            if isJSONLines {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let text = object["text"] as? String
                else { throw BenchmarkError("\(path):\(lineNumber): not a JSON object with a \"text\" string") }
                texts.append(text)
            } else {
                let columns = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
                guard columns.count == 2 else { throw BenchmarkError("\(path):\(lineNumber): no second column") }
                texts.append(String(columns[1]))
            }
        }
        return texts
    }
}
