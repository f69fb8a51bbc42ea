import Crypto
import Foundation
import Storage

/// Opaque tokens: 256 random bits for the client, only their SHA-256 in the store.
public enum Secrets {
    /// A new token (URL-safe base64 of 32 random bytes) and the hash to store.
    public static func newToken() -> (token: String, hash: String) {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let token = bytes.base64URL
        return (token, hash(token))
    }

    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).hexadecimal
    }
}
