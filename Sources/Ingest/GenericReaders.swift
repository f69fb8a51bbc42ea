import Foundation
import Retrieval

/// Files that are documents rather than records, and JSON Lines.
public enum GenericReaders {
    /// One JSON object per line: `id` (or `Id`, `_id`, `key`; else the line's content fingerprint), `title`/`name`/
    /// `subject`, `body`/`text`/`content` as the text, every other scalar as a field. The object type is `type` when
    /// given, else the line's `type`, else `record`.
    public static func readJSONLines(_ path: String, type: String? = nil) -> ReadResult {
        let name = (path as NSString).lastPathComponent
        var result = ReadResult()
        guard let handle = FileHandle(forReadingAtPath: path) else {
            return ReadResult(issues: [IngestIssue(file: name, line: nil, reason: "cannot read the file")])
        }
        defer { try? handle.close() }
        var pending = Data()
        var lineNumber = 0
        func consume(_ line: Data) {
            lineNumber += 1
            guard !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) else { return }
            guard let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] else {
                result.issues.append(IngestIssue(file: name, line: lineNumber, reason: "the line is not a JSON object"))
                return
            }
            let values = object.keys.sorted().compactMap { key in object[key].flatMap(JSONValues.text).map { (key, $0) } }
            result.records.append(record(values, type: type, fingerprint: String(decoding: line, as: UTF8.self)))
        }
        while true {
            let chunk = handle.readData(ofLength: 1 << 16)
            if chunk.isEmpty { break }
            pending.append(chunk)
            // Lines are consumed in place; only the unfinished last one is copied, once per chunk.
            var start = pending.startIndex
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                consume(pending[start..<newline])
                start = pending.index(after: newline)
            }
            pending = Data(pending[start...])
        }
        if !pending.isEmpty { consume(pending) }
        return result
    }

    /// A CSV table that is no CRM export: one record per row, its columns read as JSON Lines' fields are (`id`,
    /// `title`, `body`, `type`, …; the row's content fingerprint when it has no id column).
    public static func readCSV(_ path: String, type: String? = nil) -> ReadResult {
        let (_, opened, start) = CSVTable.opening(path)
        guard let table = opened else { return start }
        var result = start
        for row in table.rows {
            let values = table.header.compactMap { column in row.values[column].flatMap { $0.isEmpty ? nil : (column, $0) } }
            result.records.append(record(values, type: type, fingerprint: table.header.map { row.values[$0] ?? "" }.joined(separator: "\u{1F}")))
        }
        return result
    }

    static let idNames = ["id", "Id", "ID", "_id", "key"]
    static let titleNames = ["title", "name", "subject", "Name", "Title"]
    static let textNames = ["body", "text", "content", "description"]

    /// A record of the `file` system from named values (a JSON line, a CSV row): the id, title and text by their
    /// usual names, every other value a field; the type is `type`, else a `type` value, else `record`.
    static func record(_ values: [(String, String)], type: String?, fingerprint: @autoclosure () -> String) -> SourceRecord {
        let lookup = Dictionary(values, uniquingKeysWith: { first, _ in first })
        let id = idNames.lazy.compactMap { lookup[$0] }.first ?? Fingerprint.of(fingerprint())
        let title = titleNames.lazy.compactMap { lookup[$0] }.first ?? ""
        var text = textNames.lazy.compactMap { lookup[$0] }.first ?? ""
        if HTMLText.looksLikeHTML(text) { text = HTMLText.plain(text) }
        let roles = Set(idNames + titleNames + textNames)
        let fields = values.filter { !roles.contains($0.0) }.map { SourceRecord.Field(FieldLabel.readable($0.0), $0.1) }
        return SourceRecord(system: "file", type: type ?? lookup["type"] ?? "record", id: id, title: title, fields: fields, text: text)
    }

    /// A Markdown, HTML or text file as one document, keyed by its file name.
    public static func readDocument(_ path: String, format: IngestFormat) -> ReadResult {
        let name = (path as NSString).lastPathComponent
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            return ReadResult(issues: [IngestIssue(file: name, line: nil, reason: "cannot read the file as UTF-8 text")])
        }
        switch format {
        case .markdown:
            do {
                let document = try MarkdownReader.document(text, name: name, source: "")
                return ReadResult(records: [SourceRecord(system: "file", type: "page", id: name, title: document.title, text: document.body, metadata: document.metadata)])
            } catch {
                return ReadResult(issues: [error])
            }
        case .html:
            var title = ""
            if let open = text.range(of: "<title>", options: .caseInsensitive), let close = text.range(of: "</title>", options: .caseInsensitive, range: open.upperBound..<text.endIndex) {
                title = HTMLText.plain(String(text[open.upperBound..<close.lowerBound]))
            }
            var body = text
            if let head = body.range(of: "</head>", options: .caseInsensitive) { body = String(body[head.upperBound...]) }
            let plain = HTMLText.plain(body)
            if title.isEmpty { title = plain.split(separator: "\n").first.map(String.init) ?? name }
            return ReadResult(records: [SourceRecord(system: "file", type: "page", id: name, title: title, text: plain)])
        default:
            let title = String(name.prefix { $0 != "." }).replacingOccurrences(of: "-", with: " ").replacingOccurrences(of: "_", with: " ")
            return ReadResult(records: [SourceRecord(system: "file", type: "page", id: name, title: title, text: text)])
        }
    }
}
