import Foundation
import Storage
public import Retrieval

/// One record of an export, before it becomes a knowledge document.
public struct SourceRecord: Sendable, Equatable {
    /// `salesforce`, `erpnext`, `odoo`, `northwind`, `file`.
    public var system: String
    /// The object type: `Contact`, `Customer`, `helpdesk.ticket`, `Order`, `page`.
    public var type: String
    /// The record's id in its system (stable across exports).
    public var id: String
    public var title: String
    /// Labelled fields in a readable order; empty values are dropped when the document is written.
    public var fields: [Field]
    /// Free text (an article body, a description) written after the fields.
    public var text: String
    public var metadata: [String: String]

    public struct Field: Sendable, Equatable {
        public var label: String
        public var value: String

        public init(_ label: String, _ value: String) {
            self.label = label
            self.value = value
        }
    }

    public init(system: String, type: String, id: String, title: String, fields: [Field] = [], text: String = "", metadata: [String: String] = [:]) {
        self.system = system
        self.type = type
        self.id = id
        self.title = title
        self.fields = fields
        self.text = text
        self.metadata = metadata
    }

    /// The stable external id of its document: `system:type:id`.
    public var key: String { "\(system):\(type):\(id)" }

    /// The knowledge document: `Field: value` lines (values on one line, empty ones dropped), then the text.
    public func document(source: String) -> DocumentInput {
        var lines: [String] = []
        for field in fields {
            let value = field.value.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                .joined(separator: " ")
            // The title is the document's title already; its field would only repeat it.
            if !value.isEmpty && value != title { lines.append("\(field.label): \(value)") }
        }
        let body = [lines.joined(separator: "\n"), text.trimmingCharacters(in: .whitespacesAndNewlines)].filter { !$0.isEmpty }.joined(separator: "\n\n")
        var metadata = self.metadata
        metadata["system"] = system
        metadata["type"] = type
        metadata["record_id"] = id
        return DocumentInput(
            source: source, externalID: key, title: title.isEmpty ? "\(type) \(id)" : title, body: body.isEmpty ? title : body, kind: .record,
            metadata: metadata)
    }
}

/// Field names as people read them: `MailingCity` → "Mailing city", `customer_name` → "Customer name",
/// `Guest_Type__c` → "Guest type", `orderID` → "Order ID".
public enum FieldLabel {
    public static func readable(_ name: String) -> String {
        var raw = name
        if raw.hasSuffix("__c") { raw.removeLast(3) }
        var words: [String] = []
        var current = ""
        let characters = Array(raw)
        for (index, character) in characters.enumerated() {
            if character == "_" || character == " " || character == "-" {
                if !current.isEmpty { words.append(current) }
                current = ""
                continue
            }
            let previous = index > 0 ? characters[index - 1] : " "
            let next = index + 1 < characters.count ? characters[index + 1] : " "
            let boundary = character.isUppercase && !current.isEmpty && (previous.isLowercase || previous.isNumber || (previous.isUppercase && next.isLowercase))
            if boundary {
                words.append(current)
                current = ""
            }
            current.append(character)
        }
        if !current.isEmpty { words.append(current) }
        let shaped = words.enumerated().map { index, word -> String in
            if word.count > 1 && word == word.uppercased() { return word }  // ID, VAT, URL
            if word.lowercased() == "id" { return "ID" }
            return index == 0 ? word.prefix(1).uppercased() + word.dropFirst().lowercased() : word.lowercased()
        }
        return shaped.joined(separator: " ")
    }

    /// A name with case, `_` and `-` ignored, for matching columns across exports (`order_id` = `orderID`).
    public static func canonical(_ name: String) -> String {
        String(name.lowercased().filter { $0.isLetter || $0.isNumber })
    }
}
