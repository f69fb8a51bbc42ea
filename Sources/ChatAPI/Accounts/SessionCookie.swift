import Foundation
import Hummingbird
import HummingbirdBcrypt
import Logging
import NIOPosix
import Retrieval
import Storage

/// The web pages' session: the same opaque token in an HttpOnly, SameSite=Strict cookie, plus a CSRF token
/// derived from the session (an HMAC under the data key) that unsafe requests must echo in `X-CSRF-Token`.
enum SessionCookie {
    static let name = "omnifin_session"
    static let csrfHeader = "X-CSRF-Token"

    static func set(_ token: String, lifetime: TimeInterval, secure: Bool) -> String {
        "\(name)=\(token); Path=/; Max-Age=\(Int(lifetime)); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    static func clear() -> String { "\(name)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict" }

    static func csrfToken(for tokenHash: String, sealer: DataSealer) -> String { sealer.mac("omnifin csrf", tokenHash) }
}
