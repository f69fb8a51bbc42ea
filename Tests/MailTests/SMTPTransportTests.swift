import Foundation
import Mail
import ServerTesting
import Testing

@Suite("SMTP transport", .serialized)
struct SMTPTransportTests {
    @Test("STARTTLS, AUTH PLAIN, dot-stuffing and UTF-8 against a real SMTP server; a wrong password fails without showing it")
    func delivers() async throws {
        let server = try TestSMTPServer.start()
        defer { server.stop() }

        var transport = try SMTPTransport.parse(server.url())
        transport.verifyCertificates = false
        #expect(transport.description == "smtp://omnifin:•••@127.0.0.1:\(server.port)" && transport.sender == "finance-bot@example.com")
        let message = MailMessage(id: 7, recipient: "ada@example.com", subject: "Bestätigung", body: "Hello,\n.\n.hidden line\nbye", createdAt: Date())
        try await transport.deliver(message)
        let received = try await server.messages(atLeast: 1)
        let first = try #require(received.first)
        #expect(first.envelope["tls"] as? Bool == true && first.envelope["authenticated"] as? Bool == true)
        #expect(first.envelope["from"] as? String == "finance-bot@example.com" && first.envelope["to"] as? [String] == ["ada@example.com"])
        #expect(first.text.contains("Subject: =?utf-8?B?") && first.text.contains("\r\n.\r\n.hidden line\r\nbye"))

        var wrong = try SMTPTransport.parse(server.url(password: "guess"))
        wrong.verifyCertificates = false
        do {
            try await wrong.deliver(message)
            Issue.record("a wrong password was accepted")
        } catch let error as MailError {
            #expect(error.code == .refused)
            #expect(error.description.contains("AUTH PLAIN •••") && !error.description.contains("guess"), "\(error.description)")
        }
        // Certificates are checked by default: the self-signed one is refused.
        let strict = try SMTPTransport.parse(server.url())
        await #expect(throws: (any Error).self) { try await strict.deliver(message) }
        #expect(throws: MailError.self) { try SMTPTransport.parse("smtp://") }
        #expect(throws: MailError.self) { try SMTPTransport.parse("ftp://x") }
    }
}
