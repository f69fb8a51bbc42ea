import Crypto
import Foundation
import Storage

/// Opaque tokens: 256 random bits for the client, only their SHA-256 in the store.
enum Secrets {
    /// A new token (URL-safe base64 of 32 random bytes) and the hash to store.
    static func newToken() -> (token: String, hash: String) {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let token = bytes.base64URL
        return (token, hash(token))
    }

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).hexadecimal
    }
}

/// What a password and the other account fields must satisfy.
enum AccountRules {
    static let minimumPasswordLength = 10

    /// The most common passwords of 10 characters and more in public breach lists, lower-cased.
    static let commonPasswords: Set<String> = [
        "1234567890", "0123456789", "1q2w3e4r5t", "qwertyuiop", "password12", "password123", "password1234", "1234567891",
        "qwerty1234", "1qaz2wsx3edc", "iloveyou12", "abcdefghij", "asdfghjkl1", "qwerty12345", "aaaaaaaaaa", "1111111111",
        "0000000000", "123456789a", "a123456789", "qwertyuiop1", "zaq12wsxcde3", "passw0rd12", "welcome123", "letmein123",
        "administrator", "changeme123", "football123", "baseball123", "sunshine123", "princess123", "superman123", "trustno1234",
        "1234qwerasdf", "p@ssw0rd123", "password!1", "qazwsxedc123", "12345678910", "987654321a", "9876543210", "omnifin123",
    ]

    static func validateEmail(_ raw: String) throws(APIError) -> String {
        let email = raw.trimmingCharacters(in: .whitespaces).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.utf8.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[0].utf8.count <= 64, parts[1].contains("."),
            !parts[1].hasPrefix("."), !parts[1].hasSuffix("."), !email.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" || $0 == "\"" })
        else {
            throw APIError.badRequest("'\(raw)' is not an e-mail address", field: "email")
        }
        return email
    }

    static func validatePassword(_ password: String, email: String) throws(APIError) {
        guard password.count >= minimumPasswordLength else {
            throw APIError.badRequest("the password needs at least \(minimumPasswordLength) characters", field: "password")
        }
        guard password.utf8.count <= 72 else {
            throw APIError.badRequest("the password may have at most 72 bytes (bcrypt reads no further)", field: "password")
        }
        let lower = password.lowercased()
        guard !commonPasswords.contains(lower), lower != email, Set(lower).count > 2 else {
            throw APIError.badRequest("this password is too common or too easy to guess; choose another", field: "password")
        }
    }

    static func validateDisplayName(_ raw: String) throws(APIError) -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(name.count), !name.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 0x20 } == true }) else {
            throw APIError.badRequest("the display name needs 1 to 100 characters on one line", field: "display_name")
        }
        return name
    }
}
