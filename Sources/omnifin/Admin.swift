import ArgumentParser
import Accounts
import Foundation
import Logging
import Storage

struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Administer Omnifin from the command line.", subcommands: [CreateUser.self])
}

struct CreateUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-user",
        abstract: "Create a confirmed account with a role (user, editor or admin).",
        discussion: """
            The first administrator of a new server comes from here (registration never makes one), or from the \
            one-time setup link the server prints at start.

            Example:
              omnifin admin create-user --email ops@example.com --password '…' \\
                --role admin --name Operations
            """
    )

    @Option(help: "The e-mail address (sign-in name).") var email: String
    @Option(help: "The password (at least 10 characters, not a common one).") var password: String
    @Option(help: "user, editor or admin.") var role: String = "user"
    @Option(help: "The display name (default: the part of the e-mail before @).") var name: String?
    @Option(help: "sqlite:PATH or postgres://… (default: OMNIFIN_DATABASE_URL or \(DatabaseLocation.defaultURL)).") var database: String?

    func run() async throws {
        let store = try await Wiring.store(Wiring.databaseURL(database, try Wiring.settings()), logger: Wiring.logger("omnifin.admin"))
        do {
            let user = try await Accounts.createUser(
                in: store, email: email, password: password, displayName: name ?? String(email.prefix { $0 != "@" }), role: role)
            await store.close()
            print("created \(user.role) \(user.email) (\(user.id))")
        } catch let error as AccountError {
            await store.close()
            throw ValidationError(error.message)
        }
    }
}
