public import Foundation

/// A retrieval benchmark in BEIR's layout: `corpus.jsonl`, `queries.jsonl`, `qrels/test.tsv`.
public struct BEIRDataset: Sendable {
    public struct Document: Sendable {
        public var id: String
        public var title: String
        public var text: String
    }

    public struct Query: Sendable {
        public var id: String
        public var text: String
    }

    public var corpus: [Document]
    /// Only the queries that have judgements, in file order.
    public var queries: [Query]
    /// Query id → document id → gain.
    public var judgements: [String: [String: Int]]

    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads a BEIR folder.
    /// - Parameter qrels: the judgements file; default `DIR/qrels/test.tsv`.
    /// - Throws: ``LoadError`` naming the file and line of anything malformed.
    public static func load(directory: String, qrels: String? = nil) throws -> BEIRDataset {
        let root = URL(fileURLWithPath: directory)
        let qrelsPath = qrels ?? root.appendingPathComponent("qrels/test.tsv").path
        for path in [root.appendingPathComponent("corpus.jsonl").path, root.appendingPathComponent("queries.jsonl").path, qrelsPath]
        where !FileManager.default.fileExists(atPath: path) {
            throw LoadError(description: "\(path) does not exist; a BEIR folder holds corpus.jsonl, queries.jsonl and qrels/test.tsv")
        }

        var corpus: [Document] = []
        try forEachLine(root.appendingPathComponent("corpus.jsonl").path) { line, number, path in
            let object = try jsonObject(line, number: number, path: path)
            guard let id = identifier(object["_id"]) else { throw LoadError(description: "\(path):\(number): no _id") }
            corpus.append(Document(id: id, title: object["title"] as? String ?? "", text: object["text"] as? String ?? ""))
        }

        var judgements: [String: [String: Int]] = [:]
        try forEachLine(qrelsPath) { line, number, path in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if number == 1 && fields.first == "query-id" { return }
            guard fields.count >= 3, let gain = Int(fields[fields.count - 1]) else {
                throw LoadError(description: "\(path):\(number): expected query-id, corpus-id and score separated by tabs")
            }
            let (query, document) = fields.count == 4 ? (fields[0], fields[2]) : (fields[0], fields[1])  // TREC's 4 columns too
            judgements[query, default: [:]][document] = gain
        }

        var queries: [Query] = []
        try forEachLine(root.appendingPathComponent("queries.jsonl").path) { line, number, path in
            let object = try jsonObject(line, number: number, path: path)
            guard let id = identifier(object["_id"]), let text = object["text"] as? String else {
                throw LoadError(description: "\(path):\(number): a query needs _id and text")
            }
            if judgements[id] != nil { queries.append(Query(id: id, text: text)) }
        }
        return BEIRDataset(corpus: corpus, queries: queries, judgements: judgements)
    }

    private static func identifier(_ value: Any?) -> String? {
        if let s = value as? String { return s }
        if let n = value as? NSNumber { return n.stringValue }
        return nil
    }

    private static func jsonObject(_ line: Substring, number: Int, path: String) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw LoadError(description: "\(path):\(number): not a JSON object")
        }
        return object
    }

    private static func forEachLine(_ path: String, _ body: (Substring, Int, String) throws -> Void) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw LoadError(description: "cannot read \(path)") }
        let text = String(decoding: data, as: UTF8.self)
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.hasSuffix("\r") ? line.dropLast() : line
            if trimmed.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            try body(trimmed, i + 1, path)
        }
    }
}
