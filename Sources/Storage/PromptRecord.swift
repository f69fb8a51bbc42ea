public import Foundation

/// One version of a named prompt template. Versions are never edited; a change is a new version, and exactly
/// one version per name is active.
public struct PromptRecord: Sendable, Equatable {
    public var id: String
    public var name: String
    public var version: Int
    public var template: String
    public var active: Bool
    public var createdBy: String?
    public var createdAt: Date

    public init(id: String, name: String, version: Int, template: String, active: Bool, createdBy: String?, createdAt: Date) {
        self.id = id
        self.name = name
        self.version = version
        self.template = template
        self.active = active
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
}
