import Accounts
import Crypto
import Foundation
import Synchronization

/// The one-time token that creates the first administrator.
///
/// Registration never makes anyone an administrator. When a server starts and no enabled administrator exists, it
/// makes a random token, keeps only its hash in memory and prints the setup address with the token in its log
/// (which only the operator reads); `POST /api/auth/setup` with it creates the first administrator, after which
/// the token is gone. A restart without an administrator prints a new one; `omnifin admin create-user` is the other
/// way in.
final class AdminSetup: Sendable {
    private enum State {
        case notNeeded
        case waiting(hash: String)
        case claimed(hash: String)
        case done
    }

    private let state: Mutex<State>

    /// A setup that is not needed (an administrator exists).
    init() { state = Mutex(.notNeeded) }

    /// A pending setup; returns it with the token to print.
    static func pending() -> (setup: AdminSetup, token: String) {
        let (token, hash) = Secrets.newToken()
        let setup = AdminSetup()
        setup.state.withLock { $0 = .waiting(hash: hash) }
        return (setup, token)
    }

    /// Whether the server still waits for its first administrator.
    var isPending: Bool {
        state.withLock { state in
            switch state {
            case .waiting, .claimed: true
            case .notNeeded, .done: false
            }
        }
    }

    /// Takes the token for one setup attempt: true when it is the pending token and no other attempt holds it.
    func claim(_ token: String) -> Bool {
        let offered = Secrets.hash(token)
        return state.withLock { state in
            guard case .waiting(let hash) = state, CSRFMiddleware.constantTimeEqual(offered, hash) else { return false }
            state = .claimed(hash: hash)
            return true
        }
    }

    /// The attempt failed (a bad e-mail, say): the token works again.
    func release() {
        state.withLock { state in
            if case .claimed(let hash) = state { state = .waiting(hash: hash) }
        }
    }

    /// The administrator exists: the token never works again.
    func finish() { state.withLock { $0 = .done } }
}
