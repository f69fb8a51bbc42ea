public import Foundation

/// Whether a document is prose or a record of `Field: value` lines (an exported CRM/ERP row).
public enum DocumentKind: String, Sendable, Codable, CaseIterable {
    case text
    case record
}

/// One entry of the knowledge bank, as stored.
public struct DocumentRecord: Sendable, Equatable {
    /// Omnifin's id (a lowercase UUID unless the caller chose one).
    public var id: String
    /// Where it came from: `manual`, `salesforce`, `erpnext`, `beir`, ….
    public var source: String
    /// The stable key inside `source` (`Account/001…`), so a re-import updates instead of duplicating.
    public var externalID: String?
    public var title: String
    public var body: String
    public var kind: DocumentKind
    public var metadata: [String: String]
    public var access: AccessList
    /// Hash of what was chunked and embedded (title, body, kind), so unchanged documents are not re-embedded.
    public var contentHash: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, source: String, externalID: String? = nil, title: String, body: String, kind: DocumentKind = .text,
        metadata: [String: String] = [:], access: AccessList = .everyone, contentHash: String, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.source = source
        self.externalID = externalID
        self.title = title
        self.body = body
        self.kind = kind
        self.metadata = metadata
        self.access = access
        self.contentHash = contentHash
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
