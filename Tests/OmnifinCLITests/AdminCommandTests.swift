import Foundation
import Storage
import Testing

@Suite("omnifin admin")
struct AdminCommandTests {
    @Test("create-user makes a confirmed account with its role; bad input is refused")
    func createUser() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-admin-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = "sqlite:" + directory.appendingPathComponent("omnifin.db").path
        let created = try CLI.run(["admin", "create-user", "--email", "Ops@Example.com", "--password", "a long passphrase", "--role", "editor", "--database", database])
        #expect(created.status == 0, "\(created.error)")
        #expect(created.output.contains("created editor ops@example.com"))
        let store = try await StoreFactory.open(url: database)
        let user = try #require(try await store.user(email: "ops@example.com"))
        #expect(user.role == "editor" && user.verifiedAt != nil && user.displayName == "Ops" && user.passwordHash.hasPrefix("$2"))
        await store.close()

        for (arguments, message) in [
            (["--email", "ops@example.com", "--password", "a long passphrase"], "already exists"),
            (["--email", "new@example.com", "--password", "short"], "at least 10 characters"),
            (["--email", "new@example.com", "--password", "a long passphrase", "--role", "root"], "role must be"),
        ] {
            let result = try CLI.run(["admin", "create-user", "--database", database] + arguments)
            #expect(result.status != 0 && result.error.contains(message), "\(arguments): \(result.error)")
        }
    }
}
