@testable import Accounts
import Foundation
import Settings
import Storage
import StoreTesting
import Testing

@Suite("Account rules, sign-up policy, tokens")
struct AccountRulesTests {
    @Test("addresses, passwords and names are checked with the field at fault named")
    func rules() throws {
        #expect(try AccountRules.validateEmail("  Ada@Example.COM ") == "ada@example.com")
        for bad in ["ada", "ada@", "@example.com", "ada@example", "a b@example.com", "<ada@example.com>"] {
            #expect(throws: AccountError.self, "\(bad)") { try AccountRules.validateEmail(bad) }
        }
        do {
            try AccountRules.validatePassword("password123", email: "ada@example.com")
            Issue.record("a common password was accepted")
        } catch {
            #expect(error.field == "password" && !error.isEmailTaken)
        }
        #expect(throws: AccountError.self) { try AccountRules.validatePassword("ada@example.com", email: "ada@example.com") }
        #expect(throws: AccountError.self) { try AccountRules.validatePassword(String(repeating: "é", count: 40), email: "a@b.c") }
        try AccountRules.validatePassword("a long and unusual passphrase", email: "ada@example.com")
        #expect(try AccountRules.validateDisplayName("  Ada Lovelace ") == "Ada Lovelace")
        #expect(throws: AccountError.self) { try AccountRules.validateDisplayName("two\nlines") }
    }

    @Test("OMNIFIN_SIGNUP: open, domains (and their subdomains), invite, closed; anything else is refused")
    func signupPolicies() throws {
        #expect(try SignupPolicy.parse("open").allowsRegistration(of: "x@anywhere.org"))
        let domains = try SignupPolicy.parse("domains:Example.com, example.org")
        #expect(domains == .domains(["example.com", "example.org"]))
        #expect(domains.allowsRegistration(of: "a@example.com") && domains.allowsRegistration(of: "a@eu.example.org"))
        #expect(!domains.allowsRegistration(of: "a@notexample.com") && !domains.allowsRegistration(of: "a@example.com.evil.io"))
        #expect(!(try SignupPolicy.parse("invite")).allowsRegistration(of: "a@example.com"))
        #expect(try SignupPolicy.parse("invite").allowsAdminCreatedAccounts && !(try SignupPolicy.parse("closed")).allowsAdminCreatedAccounts)
        for bad in ["maybe", "domains:", "domains:localhost", "domains:exa mple.com"] {
            #expect(throws: Settings.Invalid.self, "\(bad)") { try SignupPolicy.parse(bad) }
        }
    }

    @Test("tokens are 256 random bits; only their SHA-256 is kept; an account is created with the rules applied")
    func tokensAndCreation() async throws {
        let (token, hash) = Secrets.newToken()
        #expect(token.count == 43 && hash == Secrets.hash(token) && hash.count == 64 && Secrets.newToken().token != token)
        try await TestStores.withDatabaseURL(.sqlite) { url in
            let store = try await StoreFactory.open(url: url)
            defer { Task { await store.close() } }
            let user = try await Accounts.createUser(in: store, email: "Ops@Example.com", password: "a long passphrase", displayName: "Ops", role: "admin", bcryptCost: 4)
            #expect(user.email == "ops@example.com" && user.role == "admin" && user.verifiedAt != nil)
            #expect(try await PasswordHashing.verify("a long passphrase", hash: user.passwordHash))
            do {
                _ = try await Accounts.createUser(in: store, email: "ops@example.com", password: "another passphrase", displayName: "O", role: "user", bcryptCost: 4)
                Issue.record("a second account for the same address")
            } catch let error as AccountError {
                #expect(error.isEmailTaken)
            }
            await #expect(throws: AccountError.self) {
                _ = try await Accounts.createUser(in: store, email: "x@example.com", password: "a long passphrase", displayName: "X", role: "root", bcryptCost: 4)
            }
        }
    }
}
