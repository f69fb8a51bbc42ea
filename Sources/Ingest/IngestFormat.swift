import Foundation

/// The export formats Omnifin reads.
public enum IngestFormat: String, Sendable, CaseIterable {
    case salesforceTree = "salesforce-json"
    case salesforceCSV = "salesforce-csv"
    case erpnext
    case odoo
    case northwindCSV = "northwind-csv"
    case northwindSQL = "northwind-sql"
    /// Any other CSV table: one record per row.
    case csv
    case jsonLines = "jsonl"
    case markdown
    case html
    case text

    /// Guesses the format of a file (or a folder of Northwind CSV tables) from its content, not its name.
    /// - Returns: `nil` when nothing fits.
    public static func detect(_ path: String) -> IngestFormat? {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { return nil }
        if isFolder.boolValue {
            let names = Set(((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).map { FieldLabel.canonical($0) })
            return names.contains("orderscsv") && names.contains("orderdetailscsv") ? .northwindCSV : nil
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let head = String(decoding: handle.readData(ofLength: 8192), as: UTF8.self).trimmingCharacters(in: CharacterSet(charactersIn: "\u{FEFF}"))
        let start = head.trimmingCharacters(in: .whitespacesAndNewlines)
        let lower = start.lowercased()
        if lower.hasPrefix("<?xml") || lower.hasPrefix("<odoo") || lower.hasPrefix("<openerp") {
            return lower.contains("<odoo") || lower.contains("<openerp") ? .odoo : nil
        }
        if lower.hasPrefix("<!doctype html") || lower.hasPrefix("<html") || lower.hasPrefix("<") { return .html }
        if start.hasPrefix("[") {
            if start.contains("\"sobject\"") { return .salesforceTree }
            if start.contains("\"doctype\"") { return .erpnext }
            return nil
        }
        if start.hasPrefix("{") {
            if start.contains("\"records\"") && start.contains("\"attributes\"") { return .salesforceTree }
            let lines = start.split(separator: "\n")
            if lines.count > 1 || (lines.first.map { $0.hasSuffix("}") } ?? false) { return .jsonLines }
            return nil
        }
        if start.hasPrefix("---\n") || start.hasPrefix("---\r") || start.hasPrefix("# ") { return .markdown }
        if head.contains("INSERT INTO ") || head.contains("CREATE TABLE ") || head.hasPrefix("-- ") { return .northwindSQL }
        if let firstLine = start.split(separator: "\n").first, firstLine.contains(","), !firstLine.contains(". ") {
            return csv(path)
        }
        return .text
    }

    /// Whose CSV this is, from its header and first row: a Northwind table (`shipperID,companyName,phone`), a
    /// Salesforce export (an `Id` column of record ids, API names such as `AccountId` or `Guest_Type__c`, or report
    /// columns `Account: Account Name`), else a plain table.
    static func csv(_ path: String) -> IngestFormat {
        var rows = CSVReader(path: path).makeIterator()
        guard let first = rows.next() else { return .csv }
        var header = first.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        if let name = header.first, name.hasPrefix("\u{FEFF}") { header[0] = String(name.dropFirst()) }
        if NorthwindReader.table(header: header) != nil { return .northwindCSV }
        let row = rows.next()?.fields ?? []
        if let column = header.firstIndex(of: "Id"), column < row.count, SalesforceID.isRecordID(row[column]) { return .salesforceCSV }
        let apiNames: Set<String> = ["AccountId", "OwnerId", "CreatedDate", "LastModifiedDate", "IsDeleted", "SystemModstamp", "RecordTypeId"]
        if header.contains(where: { apiNames.contains($0) || $0.hasSuffix("__c") }) { return .salesforceCSV }
        if header.count > 1 && header.allSatisfy({ $0.components(separatedBy: ": ").count == 2 }) { return .salesforceCSV }
        return .csv
    }
}
