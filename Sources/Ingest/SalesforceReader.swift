import Foundation
import Storage

/// What a reader found: records in reading order, and the records it had to skip, with why.
public struct ReadResult: Sendable {
    public var records: [SourceRecord] = []
    public var issues: [IngestIssue] = []

    public init(records: [SourceRecord] = [], issues: [IngestIssue] = []) {
        self.records = records
        self.issues = issues
    }

    mutating func append(_ other: ReadResult) {
        records += other.records
        issues += other.issues
    }
}

/// Salesforce exports: `sf data export tree` JSON (a plan file linking several data files, or one data file) and
/// Data Loader / report CSV.
public enum SalesforceReader {
    /// Fields that are plumbing, not knowledge.
    static let noise: Set<String> = [
        "attributes", "IsDeleted", "SystemModstamp", "LastViewedDate", "LastReferencedDate", "PhotoUrl", "Picture", "Jigsaw", "JigsawContactId",
        "CleanStatus", "MasterRecordId", "UrlName", "IsVisibleInApp", "IsVisibleInCsp", "IsVisibleInPrm", "IsVisibleInPkb", "Language",
        "External_Id__c", "CurrencyIsoCode",
    ]
    static let titleFields = ["Name", "Title", "Subject", "CaseNumber", "Name__c", "Title__c"]
    static let metadataFields: [String: String] = [
        "OwnerId": "owner", "CreatedDate": "created", "LastModifiedDate": "modified", "CloseDate": "close_date", "Status": "status",
        "StageName": "stage",
    ]

    /// Reads a plan file (`[{"sobject", "files"}]`) or a data file (`{"records": [...]}`); references `@Ref` are
    /// resolved to the referenced record's title across the files of a plan.
    public static func readTree(_ path: String) -> ReadResult {
        let name = (path as NSString).lastPathComponent
        guard let data = FileManager.default.contents(atPath: path) else {
            return ReadResult(issues: [IngestIssue(file: name, line: nil, reason: "cannot read the file")])
        }
        guard let json = try? JSONSerialization.jsonObject(with: data) else {
            return ReadResult(issues: [IngestIssue(file: name, line: nil, reason: "not valid JSON")])
        }
        var files: [String] = []
        if let plan = json as? [[String: Any]], plan.first?["sobject"] != nil {
            let folder = (path as NSString).deletingLastPathComponent
            files = plan.flatMap { ($0["files"] as? [String]) ?? [] }.map { (folder as NSString).appendingPathComponent($0) }
        } else {
            files = [path]
        }
        var references: [String: String] = [:]
        var result = ReadResult()
        var pending: [(file: String, index: Int, object: [String: Any])] = []
        for file in files {
            let fileName = (file as NSString).lastPathComponent
            guard let data = FileManager.default.contents(atPath: file),
                let tree = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], let records = tree["records"] as? [Any]
            else {
                result.issues.append(IngestIssue(file: fileName, line: nil, reason: "not a Salesforce data-tree file (no \"records\" list)"))
                continue
            }
            func collect(_ items: [Any], parent: (String, String)?) {
                for (index, item) in items.enumerated() {
                    guard var object = item as? [String: Any] else {
                        result.issues.append(IngestIssue(file: fileName, line: index + 1, reason: "record \(index + 1) is not a JSON object"))
                        continue
                    }
                    // Child relationships nest their own records; they become records that name their parent.
                    for (key, value) in object {
                        if let child = value as? [String: Any], let childRecords = child["records"] as? [Any] {
                            object[key] = nil
                            let parentReference = (object["attributes"] as? [String: Any])?["referenceId"] as? String
                            collect(childRecords, parent: parentReference.map { ("\((object["attributes"] as? [String: Any])?["type"] ?? "Parent")Id", "@" + $0) })
                        }
                    }
                    if let parent { object[parent.0] = object[parent.0] ?? parent.1 }
                    let attributes = object["attributes"] as? [String: Any]
                    if let reference = attributes?["referenceId"] as? String {
                        references[reference] = title(of: object, type: attributes?["type"] as? String ?? "")
                    }
                    pending.append((fileName, index + 1, object))
                }
            }
            collect(records, parent: nil)
        }
        for (file, index, object) in pending {
            let attributes = object["attributes"] as? [String: Any]
            guard let type = attributes?["type"] as? String, !type.isEmpty else {
                result.issues.append(IngestIssue(file: file, line: index, reason: "record \(index) has no attributes.type"))
                continue
            }
            let id = (object["Id"] as? String).flatMap { $0.isEmpty ? nil : SalesforceID.canonical($0) } ?? (attributes?["referenceId"] as? String)
            guard let id, !id.isEmpty else {
                result.issues.append(IngestIssue(file: file, line: index, reason: "record \(index) has neither an Id nor a referenceId"))
                continue
            }
            var values: [(String, String)] = []
            for key in object.keys.sorted() {
                guard let value = object[key], !(value is NSNull), !(value is [String: Any]) else { continue }
                var text = value as? String ?? "\(value)"
                if let flag = JSONValues.bool(value) { text = flag ? "Yes" : "No" }
                if text.hasPrefix("@"), let resolved = references[String(text.dropFirst())] { text = resolved }
                values.append((key, text))
            }
            result.records.append(record(type: type, id: id, values: values))
        }
        return result
    }

    static func title(of object: [String: Any], type: String) -> String {
        let title = title { object[$0] as? String }
        return title.isEmpty ? type : title
    }

    /// A record's name: `Name`, else a person's first and last name (a Contact's or Lead's `Title` is their job,
    /// not their name), else a subject, case number or title field.
    static func title(_ value: (String) -> String?) -> String {
        if let name = value("Name"), !name.isEmpty { return name }
        if let last = value("LastName"), !last.isEmpty { return [value("FirstName") ?? "", last].filter { !$0.isEmpty }.joined(separator: " ") }
        return titleFields.lazy.compactMap(value).first { !$0.isEmpty } ?? value("FirstName") ?? ""
    }

    /// One record from field name/value pairs (API names), in the order given.
    static func record(type: String, id: String, values: [(String, String)]) -> SourceRecord {
        var fields: [SourceRecord.Field] = []
        var text: [String] = []
        var metadata: [String: String] = [:]
        var lookup: [String: String] = [:]
        for (key, raw) in values {
            lookup[key] = raw
            if let meta = metadataFields[key] { metadata[meta] = raw }
            guard !noise.contains(key), key != "Id" else { continue }
            var value = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if value.isEmpty { continue }
            var label = FieldLabel.readable(key)
            if key.hasSuffix("Id") && key.count > 2 { label = FieldLabel.readable(String(key.dropLast(2))) }
            if HTMLText.looksLikeHTML(value) { value = HTMLText.plain(value) }
            if value.count > 300 || value.contains("\n") {
                text.append(label + "\n" + value)
            } else {
                fields.append(.init(label, value))
            }
        }
        return SourceRecord(
            system: "salesforce", type: type, id: id, title: title { lookup[$0] }, fields: fields, text: text.joined(separator: "\n\n"), metadata: metadata)
    }

    /// Data Loader or report CSV: API names (`Id`, `Name`, …) or report labels (`Account: Account Name`). With
    /// an `Id` column a row without one is skipped; a report without ids keys each row by its content.
    ///
    /// A row's object type comes from the data, never from the file's name: `type` when given, else the key prefix of
    /// its record id (`003…` is a Contact), else the objects a report's columns name (`Account+Contact`), else
    /// `record`. Ids are keyed in their 18-character form, so a report's 15-character ids name the same records.
    public static func readCSV(_ path: String, type: String? = nil) -> ReadResult {
        let (name, opened, start) = CSVTable.opening(path)
        guard let table = opened else { return start }
        var result = start
        let hasID = table.header.contains("Id")
        var reportObjects: [String] = []
        for column in table.header {
            let parts = column.components(separatedBy: ": ")
            if parts.count == 2, !reportObjects.contains(parts[0]) { reportObjects.append(parts[0]) }
        }
        let reportType = reportObjects.isEmpty ? nil : reportObjects.joined(separator: "+")
        for row in table.rows {
            var id = SalesforceID.canonical(row.values["Id"] ?? "")
            if hasID {
                guard !id.isEmpty else {
                    result.issues.append(IngestIssue(file: name, line: row.line, reason: "the row has an empty Id"))
                    continue
                }
            } else {
                id = Fingerprint.of(table.header.map { row.values[$0] ?? "" }.joined(separator: "\u{1F}"))
            }
            let type = type ?? SalesforceID.objectType(of: id) ?? reportType ?? "record"
            // Report columns are "Object: Label"; "Account: Account Name" reads "Account name", "Contact: Phone" "Contact phone".
            let values = table.header.map { key -> (String, String) in
                let parts = key.components(separatedBy: ": ")
                guard parts.count == 2 else { return (key, row.values[key] ?? "") }
                return (parts[1].hasPrefix(parts[0]) ? parts[1] : parts[0] + " " + parts[1], row.values[key] ?? "")
            }
            var record = record(type: type, id: id, values: values)
            if record.title.isEmpty {
                let names = table.header.filter { $0.hasSuffix("Name") }.compactMap { row.values[$0] }.filter { !$0.isEmpty }
                record.title = names.joined(separator: " ")
                if record.title.isEmpty { record.title = row.values[table.header[0]] ?? "" }
            }
            result.records.append(record)
        }
        return result
    }
}

/// JSON values as `JSONSerialization` hands them over.
enum JSONValues {
    /// `true`/`false` (a boolean number, not 0 or 1).
    static func bool(_ value: Any) -> Bool? { StoredJSON.bool(value) }

    /// A scalar as text; `nil` for null, empty strings, empty lists and objects.
    static func text(_ value: Any) -> String? {
        if value is NSNull { return nil }
        if let flag = bool(value) { return flag ? "Yes" : "No" }
        if let string = value as? String { return string.isEmpty || string == "None" ? nil : string }
        if let number = value as? NSNumber { return number.stringValue }
        return nil
    }
}

/// A short stable fingerprint of a text (FNV-1a 64, hex), for keys of records that have no id.
enum Fingerprint {
    static func of(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
