import Foundation
import Retrieval

/// Files that are documents rather than records, and JSON Lines.
public enum GenericReaders {
    /// One JSON object per line: `id` (or `Id`, `_id`; else the line's content fingerprint), `title`/`name`/`subject`,
    /// `body`/`text`/`content` as the text, every other scalar as a field.
    public static func readJSONLines(_ path: String) -> ReadResult {
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
            let id = ["id", "Id", "_id", "key"].lazy.compactMap { object[$0].flatMap(JSONValues.text) }.first ?? Fingerprint.of(String(decoding: line, as: UTF8.self))
            let title = ["title", "name", "subject", "Name", "Title"].lazy.compactMap { object[$0].flatMap(JSONValues.text) }.first ?? ""
            var text = ["body", "text", "content", "description"].lazy.compactMap { object[$0].flatMap(JSONValues.text) }.first ?? ""
            if HTMLText.looksLikeHTML(text) { text = HTMLText.plain(text) }
            let skip: Set<String> = ["id", "Id", "_id", "key", "title", "name", "subject", "Name", "Title", "body", "text", "content", "description"]
            let fields = object.keys.sorted().filter { !skip.contains($0) }.compactMap { key in
                object[key].flatMap(JSONValues.text).map { SourceRecord.Field(FieldLabel.readable(key), $0) }
            }
            let type = object["type"].flatMap(JSONValues.text) ?? "record"
            result.records.append(SourceRecord(system: "file", type: type, id: id, title: title, fields: fields, text: text))
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
