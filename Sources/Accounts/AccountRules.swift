import Foundation

/// What a password and the other account fields must satisfy.
public enum AccountRules {
    public static let minimumPasswordLength = 10

    /// The most common passwords of 10 characters and more in public breach lists, lower-cased.
    static let commonPasswords: Set<String> = [
        "1234567890", "0123456789", "1q2w3e4r5t", "qwertyuiop", "password12", "password123", "password1234", "1234567891",
        "qwerty1234", "1qaz2wsx3edc", "iloveyou12", "abcdefghij", "asdfghjkl1", "qwerty12345", "aaaaaaaaaa", "1111111111",
        "0000000000", "123456789a", "a123456789", "qwertyuiop1", "zaq12wsxcde3", "passw0rd12", "welcome123", "letmein123",
        "administrator", "changeme123", "football123", "baseball123", "sunshine123", "princess123", "superman123", "trustno1234",
        "1234qwerasdf", "p@ssw0rd123", "password!1", "qazwsxedc123", "12345678910", "987654321a", "9876543210", "omnifin123",
    ]

    /// The address trimmed and lower-cased.
    public static func validateEmail(_ raw: String) throws(AccountError) -> String {
        let email = raw.trimmingCharacters(in: .whitespaces).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.utf8.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[0].utf8.count <= 64, parts[1].contains("."),
            !parts[1].hasPrefix("."), !parts[1].hasSuffix("."), !email.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" || $0 == "\"" })
        else {
            throw .invalid("'\(raw)' is not an e-mail address", field: "email")
        }
        return email
    }

    public static func validatePassword(_ password: String, email: String) throws(AccountError) {
        guard password.count >= minimumPasswordLength else {
            throw .invalid("the password needs at least \(minimumPasswordLength) characters", field: "password")
        }
        guard password.utf8.count <= 72 else {
            throw .invalid("the password may have at most 72 bytes (bcrypt reads no further)", field: "password")
        }
        let lower = password.lowercased()
        guard !commonPasswords.contains(lower), lower != email, Set(lower).count > 2 else {
            throw .invalid("this password is too common or too easy to guess; choose another", field: "password")
        }
    }

    /// The name trimmed.
    public static func validateDisplayName(_ raw: String) throws(AccountError) -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(name.count), !name.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 0x20 } == true }) else {
            throw .invalid("the display name needs 1 to 100 characters on one line", field: "display_name")
        }
        return name
    }
}
