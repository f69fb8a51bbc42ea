import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Odoo XML data files: `<odoo><record id="…" model="…"><field name="…">…</field></record></odoo>`, fields as
/// text, as HTML (`type="html"`), as an `eval` literal or as a `ref` to another record (shown by its name).
public enum OdooReader {
    static let noise: Set<String> = ["active", "sequence", "color", "company_id", "groups_id", "alias_model_id", "website_published"]

    struct RawRecord {
        var id: String?
        var model: String
        var line: Int
        var fields: [(name: String, value: String?, reference: String?)] = []
    }

    final class Collector: NSObject, XMLParserDelegate {
        var records: [RawRecord] = []
        var issues: [IngestIssue] = []
        let file: String
        private var current: RawRecord?
        private var field: (name: String, eval: String?, reference: String?, html: Bool)?
        private var text = ""
        private var depth = 0

        init(file: String) { self.file = file }

        func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
            if element == "record" {
                current = RawRecord(id: attributes["id"], model: attributes["model"] ?? "", line: parser.lineNumber)
            } else if element == "field", current != nil, field == nil {
                field = (attributes["name"] ?? "", attributes["eval"], attributes["ref"], attributes["type"] == "html")
                text = ""
                depth = 0
            } else if field != nil {
                // Markup inside an HTML field: keep its block structure.
                depth += 1
                if HTMLText.blocks.contains(element.lowercased()) { text += "\n" + (element.lowercased() == "li" ? "- " : "") }
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if field != nil { text += string }
        }

        func parser(_ parser: XMLParser, foundCDATA block: Data) {
            if field != nil { text += String(decoding: block, as: UTF8.self) }
        }

        func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
            if element == "field", let open = field, depth == 0 {
                var value: String?
                if let eval = open.eval { value = OdooReader.literal(eval) } else if open.reference == nil { value = text }
                if let raw = value, open.html || HTMLText.looksLikeHTML(raw) { value = HTMLText.plain(raw) }
                current?.fields.append((open.name, value?.trimmingCharacters(in: .whitespacesAndNewlines), open.reference))
                field = nil
            } else if field != nil {
                depth -= 1
            } else if element == "record", let record = current {
                records.append(record)
                current = nil
            }
        }

        func parser(_ parser: XMLParser, parseErrorOccurred error: any Error) {
            issues.append(IngestIssue(file: file, line: parser.lineNumber, reason: "the XML is broken here: \(error.localizedDescription)"))
        }
    }

    /// A Python literal from `eval`: a quoted string or a number; anything else (lists, `ref()`, dates) is code.
    static func literal(_ eval: String) -> String? {
        let trimmed = eval.trimmingCharacters(in: .whitespaces)
        if trimmed.count >= 2, let first = trimmed.first, first == "\"" || first == "'", trimmed.last == first {
            return String(trimmed.dropFirst().dropLast())
        }
        if Double(trimmed) != nil { return trimmed }
        return nil
    }

    public static func read(_ path: String) -> ReadResult {
        let name = (path as NSString).lastPathComponent
        guard let data = FileManager.default.contents(atPath: path) else {
            return ReadResult(issues: [IngestIssue(file: name, line: nil, reason: "cannot read the file")])
        }
        // Odoo writes UTF-8. Anything else is refused here: Foundation's XML parser traps (crashes the process) on an
        // element name that is not valid UTF-8 (found by the export fuzz target).
        if let offset = UTF8Validation.firstInvalidByte(data) {
            let line = data.prefix(offset).reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
            return ReadResult(issues: [IngestIssue(file: name, line: line, reason: "the file is not UTF-8 (byte \(offset + 1)); save the export as UTF-8")])
        }
        let parser = XMLParser(data: data)
        let collector = Collector(file: name)
        parser.delegate = collector
        parser.parse()
        var result = ReadResult(issues: collector.issues)
        var titles: [String: String] = [:]
        for record in collector.records {
            if let id = record.id, let title = record.fields.first(where: { ["name", "title", "subject"].contains($0.name) })?.value { titles[id] = title }
        }
        for record in collector.records {
            guard let id = record.id, !id.isEmpty else {
                result.issues.append(IngestIssue(file: name, line: record.line, reason: "a <record> of model \(record.model) has no id"))
                continue
            }
            var title = ""
            var fields: [SourceRecord.Field] = []
            var text: [String] = []
            for field in record.fields where !noise.contains(field.name) {
                let label = FieldLabel.readable(field.name.hasSuffix("_id") ? String(field.name.dropLast(3)) : field.name)
                if let reference = field.reference {
                    let shown = titles[reference] ?? titles[reference.split(separator: ".").last.map(String.init) ?? reference]
                    if let shown { fields.append(.init(label, shown)) }
                    continue
                }
                guard let value = field.value, !value.isEmpty else { continue }
                if title.isEmpty && ["name", "title", "subject"].contains(field.name) {
                    title = value
                    continue
                }
                if value.count > 300 || value.contains("\n") { text.append(label + "\n" + value) } else { fields.append(.init(label, value)) }
            }
            // Records that only wire other records together (group memberships, aliases) carry no knowledge.
            guard !title.isEmpty || !text.isEmpty else { continue }
            result.records.append(
                SourceRecord(system: "odoo", type: record.model, id: id, title: title, fields: fields, text: text.joined(separator: "\n\n"),
                             metadata: ["model": record.model]))
        }
        return result
    }
}
