import Foundation

/// ERPNext / Frappe JSON fixtures: a list of records, each with its `doctype` and `name` (the record id).
public enum ERPNextReader {
    /// Frappe's bookkeeping fields.
    static let noise: Set<String> = [
        "doctype", "name", "docstatus", "idx", "parent", "parentfield", "parenttype", "naming_series", "modified_by", "owner", "creation", "modified",
        "__islocal", "__unsaved", "_user_tags", "_comments", "_assign", "_liked_by", "lft", "rgt", "old_parent",
    ]

    public static func read(_ path: String) -> ReadResult {
        let name = (path as NSString).lastPathComponent
        guard let data = FileManager.default.contents(atPath: path) else {
            return ReadResult(issues: [IngestIssue(file: name, line: nil, reason: "cannot read the file")])
        }
        guard let list = (try? JSONSerialization.jsonObject(with: data)) as? [Any] else {
            return ReadResult(issues: [IngestIssue(file: name, line: nil, reason: "not a JSON list of ERPNext records")])
        }
        var result = ReadResult()
        for (index, item) in list.enumerated() {
            guard let object = item as? [String: Any] else {
                result.issues.append(IngestIssue(file: name, line: index + 1, reason: "record \(index + 1) is not a JSON object"))
                continue
            }
            guard let doctype = object["doctype"] as? String, !doctype.isEmpty else {
                result.issues.append(IngestIssue(file: name, line: index + 1, reason: "record \(index + 1) has no doctype"))
                continue
            }
            guard let id = object["name"].flatMap(JSONValues.text) else {
                result.issues.append(IngestIssue(file: name, line: index + 1, reason: "record \(index + 1) (\(doctype)) has no name"))
                continue
            }
            result.records.append(record(object, doctype: doctype, id: id))
        }
        return result
    }

    static func record(_ object: [String: Any], doctype: String, id: String) -> SourceRecord {
        let prefix = doctype.lowercased().replacingOccurrences(of: " ", with: "_")
        var title = (object["\(prefix)_name"] ?? object["title"] ?? object["full_name"] ?? object["employee_name"]).flatMap(JSONValues.text) ?? ""
        if title.isEmpty {
            title = [object["first_name"], object["last_name"]].compactMap { $0.flatMap(JSONValues.text) }.joined(separator: " ")
        }
        if title.isEmpty { title = id }
        var fields: [SourceRecord.Field] = []
        var text: [String] = []
        for key in object.keys.sorted() where !noise.contains(key) {
            guard let value = object[key] else { continue }
            let label = FieldLabel.readable(key)
            if let rows = value as? [[String: Any]] {
                // A child table: one line per row with its meaningful values.
                let lines = rows.map { row in
                    row.keys.sorted().filter { !noise.contains($0) }.compactMap { column in
                        row[column].flatMap(JSONValues.text).map { "\(FieldLabel.readable(column).lowercased()) \($0)" }
                    }.joined(separator: ", ")
                }.filter { !$0.isEmpty }
                if !lines.isEmpty { text.append(label + "\n" + lines.map { "- " + $0 }.joined(separator: "\n")) }
                continue
            }
            guard var string = JSONValues.text(value) else { continue }
            if HTMLText.looksLikeHTML(string) { string = HTMLText.plain(string) }
            if string.count > 300 || string.contains("\n") { text.append(label + "\n" + string) } else { fields.append(.init(label, string)) }
        }
        var metadata: [String: String] = [:]
        for (key, meta) in [("owner", "owner"), ("creation", "created"), ("modified", "modified")] {
            if let value = object[key].flatMap(JSONValues.text) { metadata[meta] = value }
        }
        return SourceRecord(system: "erpnext", type: doctype, id: id, title: title, fields: fields, text: text.joined(separator: "\n\n"), metadata: metadata)
    }
}
