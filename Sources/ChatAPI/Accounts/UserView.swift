import Foundation
import Hummingbird
import Storage

/// A user as the API shows it: never the password hash.
struct UserView: ResponseEncodable, Equatable {
    var id: String
    var email: String
    var displayName: String
    var role: String
    var groups: [String]
    var verified: Bool
    var disabled: Bool
    var createdAt: Date
    var updatedAt: Date

    init(_ user: UserRecord) {
        id = user.id
        email = user.email
        displayName = user.displayName
        role = user.role
        groups = user.groups
        verified = user.verifiedAt != nil
        disabled = user.disabledAt != nil
        createdAt = user.createdAt
        updatedAt = user.updatedAt
    }
}
