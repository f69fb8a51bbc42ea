/// Salesforce record ids: 15 characters (case-sensitive) or 18 (the 15 and a case checksum). The first three
/// characters, the key prefix, name the object type, so a record's identity comes from its id and not from the
/// name of the file it was exported in.
public enum SalesforceID {
    /// The key prefixes of standard objects. Custom objects get prefixes assigned per org (`a00`…`a0Z`, …): those are
    /// not listed, and their rows are keyed by the prefix itself unless `--type` names the object.
    public static let objectTypes: [String: String] = [
        "001": "Account", "002": "Note", "003": "Contact", "005": "User", "006": "Opportunity", "00D": "Organization", "00E": "UserRole",
        "00G": "Group", "00O": "Report", "00P": "Attachment", "00Q": "Lead", "00T": "Task", "00U": "Event", "00a": "CaseComment",
        "00k": "OpportunityLineItem", "00v": "CampaignMember", "015": "Document", "01Z": "Dashboard", "01s": "Pricebook2", "01t": "Product2",
        "01u": "PricebookEntry", "02i": "Asset", "068": "ContentVersion", "069": "ContentDocument", "0Q0": "Quote", "500": "Case",
        "501": "Solution", "701": "Campaign", "800": "Contract", "801": "Order", "802": "OrderItem", "ka0": "KnowledgeArticle",
    ]

    /// Whether `text` has the shape of a record id: 15 or 18 ASCII letters and digits.
    public static func isRecordID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return (bytes.count == 15 || bytes.count == 18) && bytes.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
    }

    /// The 18-character form of a record id (a 15-character id gains its case checksum); other text is returned as is.
    /// Reports export 15-character ids and Data Loader 18-character ones: both name the same record.
    public static func canonical(_ id: String) -> String {
        guard isRecordID(id), id.utf8.count == 15 else { return id }
        let characters = Array(id.utf8)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345".utf8)
        var suffix: [UInt8] = []
        for block in 0..<3 {
            var bits = 0
            for position in 0..<5 where (0x41...0x5A).contains(characters[block * 5 + position]) { bits |= 1 << position }
            suffix.append(alphabet[bits])
        }
        return id + String(decoding: suffix, as: UTF8.self)
    }

    /// The object type a record id names: the standard object of its key prefix, else the prefix itself; `nil` when
    /// `id` is not a record id.
    public static func objectType(of id: String) -> String? {
        guard isRecordID(id) else { return nil }
        let prefix = String(id.prefix(3))
        return objectTypes[prefix] ?? prefix
    }
}
