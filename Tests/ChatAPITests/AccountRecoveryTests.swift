@testable import Accounts
import ChatAPI
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Retrieval
import Storage
import StoreTesting
import Testing

/// Accounts on a live server: no takeover of an address before its owner registers, a way back in by e-mail, and
/// no field silently ignored.
@Suite("Accounts: registration, confirmation, password reset", .serialized)
struct AccountRecoveryTests {
    static func register(_ api: APIHarness.Context, _ email: String, _ password: String, name: String = "Dave") async throws
        -> (status: HTTPResponse.Status, body: [String: Any], headers: HTTPFields)
    {
        try await api.request(.post, "/api/auth/register", json: #"{"email": "\#(email)", "password": "\#(password)", "display_name": "\#(name)"}"#)
    }

    static func verify(_ api: APIHarness.Context, token: String, password: String) async throws
        -> (status: HTTPResponse.Status, body: [String: Any], headers: HTTPFields)
    {
        try await api.request(.post, "/api/auth/verify", json: #"{"token": "\#(token)", "password": "\#(password)"}"#)
    }

    static func code(_ response: (status: HTTPResponse.Status, body: [String: Any], headers: HTTPFields)) -> String? {
        (response.body["error"] as? [String: Any])?["code"] as? String
    }

    @Test("an attacker who registers the address first never chooses the owner's password")
    func noTakeoverBeforeRegistration() async throws {
        try await APIHarness.withAPI(.sqlite, live: true) { api in
            // The attacker registers dave@ with a password of their own; the link goes to Dave's mailbox.
            let attacker = try await Self.register(api, "dave@example.com", "attacker passphrase 1", name: "Not Dave")
            #expect(attacker.status == .created)
            let attackerLink = try await api.confirmationToken(for: "dave@example.com", mailNumber: 1)
            // Dave registers: the same answer as a first registration (no 409), and it replaces the pending one.
            let dave = try await Self.register(api, "dave@example.com", "daves own passphrase")
            #expect(dave.status == .created && NSDictionary(dictionary: dave.body) == NSDictionary(dictionary: attacker.body))
            let daveLink = try await api.confirmationToken(for: "dave@example.com", mailNumber: 2)
            #expect(daveLink != attackerLink)

            // The first link no longer works; Dave's link does not confirm with the attacker's password.
            #expect(Self.code(try await Self.verify(api, token: attackerLink, password: "attacker passphrase 1")) == "link_replaced")
            #expect(Self.code(try await Self.verify(api, token: daveLink, password: "attacker passphrase 1")) == "wrong_password")
            // Dave asks for a new link (the mail got lost): it is bound to his registration, still not to the attacker's.
            _ = try await api.request(.post, "/api/auth/resend-verification", json: #"{"email": "dave@example.com"}"#)
            let resent = try await api.confirmationToken(for: "dave@example.com", mailNumber: 3)
            #expect(Self.code(try await Self.verify(api, token: resent, password: "attacker passphrase 1")) == "wrong_password")
            let confirmed = try await Self.verify(api, token: resent, password: "daves own passphrase")
            #expect(confirmed.status == .ok && confirmed.body["status"] as? String == "verified", "\(confirmed.body)")
            // A used link says the address is confirmed, not "register again".
            let reused = try await Self.verify(api, token: resent, password: "daves own passphrase")
            #expect(reused.status == .ok && reused.body["status"] as? String == "already_verified")

            let attackerLogin = try await api.request(.post, "/api/auth/login", json: #"{"email": "dave@example.com", "password": "attacker passphrase 1"}"#)
            #expect(attackerLogin.status == .unauthorized)
            _ = try await api.signIn("dave@example.com", password: "daves own passphrase")

            // Registering a confirmed address answers exactly as a first registration and tells the owner instead.
            let again = try await Self.register(api, "dave@example.com", "attacker passphrase 2", name: "Not Dave")
            #expect(again.status == .created && NSDictionary(dictionary: again.body) == NSDictionary(dictionary: attacker.body))
            let mails = try await api.mails(to: "dave@example.com", atLeast: 4)
            #expect(mails.last?.contains("already has one") == true && mails.last?.contains("verify?token=") == false)
            #expect(try await api.request(.post, "/api/auth/login", json: #"{"email": "dave@example.com", "password": "attacker passphrase 2"}"#).status
                == .unauthorized)
            let profile = try await api.store.user(email: "dave@example.com")
            #expect(profile?.displayName == "Dave" && profile?.role == "user")
        }
    }

    @Test("password reset: always 202, a single-use link valid an hour, every session signed out; limited per address")
    func passwordReset() async throws {
        try await APIHarness.withAPI(.sqlite, live: true) { api in
            let session = try await api.signUp("erin@example.com", password: "erins first passphrase")
            let known = try await api.request(.post, "/api/auth/password-reset", json: #"{"email": "erin@example.com"}"#)
            let unknown = try await api.request(.post, "/api/auth/password-reset", json: #"{"email": "nobody@example.com"}"#)
            #expect(known.status == .accepted && unknown.status == .accepted)
            #expect((known.body["message"] as? String)?.replacingOccurrences(of: "erin@example.com", with: "X")
                == (unknown.body["message"] as? String)?.replacingOccurrences(of: "nobody@example.com", with: "X"))
            // A second request for the same address within the minute waits.
            let again = try await api.request(.post, "/api/auth/password-reset", json: #"{"email": "erin@example.com"}"#)
            #expect(again.status == .tooManyRequests && again.headers[HTTPField.Name("Retry-After")!] != nil)

            let mail = try #require(try await api.mails(to: "erin@example.com", atLeast: 2).last)
            #expect(mail.contains("within one hour"))
            let range = try #require(mail.range(of: "reset-password?token="))
            let token = String(mail[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            // The token is stored only as its hash, and the queued e-mail that carries it is sealed in the outbox.
            let stored = try await api.store.token(hash: token)
            #expect(stored == nil)
            let outbox = try await api.store.outbox(pendingOnly: false, limit: 50)
            #expect(!outbox.isEmpty && outbox.allSatisfy { !$0.body.contains(token) && $0.body.hasPrefix("sealed:v1:") })

            let weak = try await api.request(.post, "/api/auth/password-reset/confirm", json: #"{"token": "\#(token)", "password": "1234567890"}"#)
            #expect(weak.status == .badRequest && (weak.body["error"] as? [String: Any])?["field"] as? String == "password")
            let reset = try await api.request(.post, "/api/auth/password-reset/confirm", json: #"{"token": "\#(token)", "password": "erins new passphrase"}"#)
            #expect(reset.status == .ok && reset.body["status"] as? String == "password_changed", "\(reset.body)")
            // Every session is gone; the old password fails; the new one works; the link is spent.
            #expect(try await api.request(.get, "/api/auth/profile", token: session).status == .unauthorized)
            #expect(try await api.request(.post, "/api/auth/login", json: #"{"email": "erin@example.com", "password": "erins first passphrase"}"#).status
                == .unauthorized)
            _ = try await api.signIn("erin@example.com", password: "erins new passphrase")
            let spent = try await api.request(.post, "/api/auth/password-reset/confirm", json: #"{"token": "\#(token)", "password": "erins third passphrase"}"#)
            #expect(spent.status == .badRequest && Self.code(spent) == "invalid_token")
            #expect(try await api.mails(to: "erin@example.com", atLeast: 3).last?.contains("password of your Omnifin account was changed") == true)
            let audit = try await api.request(.get, "/api/admin/audit?action=user.password_reset", token: try await api.signUpAdmin("root@example.com"))
            #expect((audit.body["entries"] as? [[String: Any]])?.isEmpty == false)
        }
    }

    @Test("a reset link opened by the mailbox's owner also confirms a pending registration, whoever registered it")
    func resetConfirmsPendingAccount() async throws {
        try await APIHarness.withAPI(.sqlite, live: true) { api in
            _ = try await Self.register(api, "frank@example.com", "attacker passphrase 1", name: "Not Frank")
            _ = try await api.request(.post, "/api/auth/password-reset", json: #"{"email": "frank@example.com"}"#)
            let mail = try #require(try await api.mails(to: "frank@example.com", atLeast: 2).last)
            let range = try #require(mail.range(of: "reset-password?token="))
            let token = String(mail[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            let reset = try await api.request(.post, "/api/auth/password-reset/confirm", json: #"{"token": "\#(token)", "password": "franks own passphrase"}"#)
            #expect(reset.status == .ok)
            _ = try await api.signIn("frank@example.com", password: "franks own passphrase")
            // The attacker's pending link is dead now.
            let pending = try await api.confirmationToken(for: "frank@example.com", mailNumber: 1)
            #expect(try await Self.verify(api, token: pending, password: "attacker passphrase 1").body["status"] as? String == "already_verified")
            #expect(try await api.request(.post, "/api/auth/login", json: #"{"email": "frank@example.com", "password": "attacker passphrase 1"}"#).status
                == .unauthorized)
        }
    }

    @Test("admins invite without a password; a password in an admin update and unknown fields anywhere are 400s naming the field")
    func invitationsAndUnknownFields() async throws {
        try await APIHarness.withAPI(.sqlite, live: true, configure: { $0.signup = .invite }) { api in
            let admin = try await api.signUpAdmin("root@example.com")
            let invited = try await api.request(
                .post, "/api/admin/users", token: admin, json: #"{"email": "gina@example.com", "display_name": "Gina", "role": "editor"}"#)
            #expect(invited.status == .created && invited.body["verified"] as? Bool == false, "\(invited.body)")
            let id = try #require(invited.body["id"] as? String)
            let mail = try #require(try await api.mails(to: "gina@example.com").last)
            #expect(mail.contains("invited you") && mail.contains("invite=1"))
            let range = try #require(mail.range(of: "reset-password?token="))
            let token = String(mail[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            let accepted = try await api.request(.post, "/api/auth/password-reset/confirm", json: #"{"token": "\#(token)", "password": "ginas own passphrase"}"#)
            #expect(accepted.status == .ok, "\(accepted.body)")
            let gina = try await api.signIn("gina@example.com", password: "ginas own passphrase")
            #expect(try await api.request(.get, "/api/auth/profile", token: gina).body["role"] as? String == "editor")

            // A password in an admin's update is refused, not accepted and ignored; the password is unchanged.
            let password = try await api.request(.put, "/api/admin/users/\(id)", token: admin, json: #"{"password": "admins choice passphrase"}"#)
            #expect(password.status == .badRequest && (password.body["error"] as? [String: Any])?["field"] as? String == "password", "\(password.body)")
            _ = try await api.signIn("gina@example.com", password: "ginas own passphrase")

            // Unknown fields on the write routes: 400 naming the field, nothing written.
            let cases: [(HTTPRequest.Method, String, String, String)] = [
                (.post, "/api/knowledge", #"{"title": "t", "body": "b", "acess": ["role:admin"]}"#, "acess"),
                (.put, "/api/auth/profile", #"{"display_name": "G", "email": "other@example.com"}"#, "email"),
                (.post, "/api/chat/message", #"{"message": "hi", "stream": true}"#, "stream"),
                (.post, "/api/admin/prompts", #"{"name": "answer", "template": "{{question}} {{context}}", "active": true}"#, "active"),
                (.post, "/api/admin/users", #"{"email": "h@example.com", "display_name": "H", "admin": true}"#, "admin"),
                (.post, "/api/auth/login", #"{"email": "gina@example.com", "password": "ginas own passphrase", "remember": true}"#, "remember"),
            ]
            for (method, path, body, field) in cases {
                let response = try await api.request(method, path, token: admin, json: body)
                #expect(response.status == .badRequest && (response.body["error"] as? [String: Any])?["field"] as? String == field, "\(path): \(response.body)")
            }
            #expect(try await api.store.user(email: "h@example.com") == nil)
            // Registration is closed under `invite`, with a message that says how to get in.
            let refused = try await Self.register(api, "ivan@example.com", "ivans own passphrase")
            #expect(refused.status == .forbidden && Self.code(refused) == "signup_closed")
        }
    }
}
