public import Crypto
import Foundation
import Synchronization

/// Encrypts sensitive data at rest (message contents, transcripts, unanswered questions) with AES-256-GCM.
///
/// The key is `OMNIFIN_DATA_KEY` (32 bytes, base64) or, when that is unset, a key file that is generated on
/// first start with mode 0600 (`var/data.key` by default). A sealed value is one version byte, the 12-byte
/// nonce, the ciphertext and the 16-byte tag; a value sealed under another key fails to open instead of
/// returning garbage. The same key also derives the CSRF secret, so one key is all an operator has to back up.
public struct DataSealer: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    private static let version: UInt8 = 1
    let key: SymmetricKey
    /// The keys ``mac(_:_:)`` derives, by purpose (a handful), so a request does not run HKDF again.
    private let derivedKeys = DerivedKeys()

    public init(key: SymmetricKey) {
        self.key = key
    }

    private final class DerivedKeys: Sendable {
        private let keys = Mutex<[String: SymmetricKey]>([:])

        func key(_ purpose: String, derive: () -> SymmetricKey) -> SymmetricKey {
            if let known = keys.withLock({ $0[purpose] }) { return known }
            let fresh = derive()
            keys.withLock { $0[purpose] = fresh }
            return fresh
        }
    }

    /// The key from `base64` (the value of `OMNIFIN_DATA_KEY`) or else from `keyFile`, created when missing.
    /// - Throws: ``Failure`` when the key is not 32 bytes of base64 or the file cannot be read or written.
    public static func load(base64: String?, keyFile: String) throws -> DataSealer {
        if let base64, !base64.isEmpty {
            guard let bytes = Data(base64Encoded: base64), bytes.count == 32 else {
                throw Failure(description: "OMNIFIN_DATA_KEY must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`)")
            }
            return DataSealer(key: SymmetricKey(data: bytes))
        }
        let manager = FileManager.default
        if manager.fileExists(atPath: keyFile) {
            guard let text = try? String(contentsOfFile: keyFile, encoding: .utf8),
                let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32
            else {
                throw Failure(description: "the data key file \(keyFile) is not 32 bytes of base64; restore it from your backup")
            }
            return DataSealer(key: SymmetricKey(data: bytes))
        }
        let key = SymmetricKey(size: .bits256)
        let text = key.withUnsafeBytes { Data($0).base64EncodedString() } + "\n"
        do {
            let directory = URL(fileURLWithPath: keyFile).deletingLastPathComponent().path
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
            guard manager.createFile(atPath: keyFile, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw Failure(description: "cannot create \(keyFile)")
            }
        } catch {
            throw Failure(description: "cannot write the new data key to \(keyFile): \(error)")
        }
        return DataSealer(key: key)
    }

    public func seal(_ text: String) throws -> [UInt8] {
        let box = try AES.GCM.seal(Data(text.utf8), using: key)
        guard let combined = box.combined else { throw Failure(description: "AES-GCM produced no output") }
        return [Self.version] + [UInt8](combined)
    }

    /// - Throws: ``Failure`` when the value was sealed under another key, or is damaged.
    public func open(_ sealed: [UInt8]) throws -> String {
        guard sealed.first == Self.version, sealed.count >= 1 + 12 + 16 else {
            throw Failure(description: "a sealed value has an unknown format")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: Data(sealed.dropFirst()))
            let data = try AES.GCM.open(box, using: key)
            guard let text = String(data: data, encoding: .utf8) else { throw Failure(description: "a sealed value is not UTF-8") }
            return text
        } catch let error as Failure {
            throw error
        } catch {
            throw Failure(description: "a sealed value does not open with this data key (was OMNIFIN_DATA_KEY changed?)")
        }
    }

    /// A keyed MAC for values that must be recomputable but unforgeable (the CSRF token of a session).
    public func mac(_ purpose: String, _ value: String) -> String {
        let derived = derivedKeys.key(purpose) { HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data(purpose.utf8), outputByteCount: 32) }
        let code = HMAC<SHA256>.authenticationCode(for: Data(value.utf8), using: derived)
        return Array(code).base64URL
    }
}
