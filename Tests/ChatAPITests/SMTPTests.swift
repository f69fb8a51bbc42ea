@testable import ChatAPI
import Foundation
import HTTPTypes
@testable import Mail
import Storage
import ServerTesting
import StoreTesting
import Testing

@Suite("Mail over SMTP", .serialized)
struct SMTPTests {
    @Test("registration mail goes out through SMTP from the outbox; while the server is down it waits and is retried")
    func throughTheOutbox() async throws {
        #expect(throws: ServerConfiguration.Invalid.self) { try ServerConfiguration.fromEnvironment(["OMNIFIN_MAIL": "ftp://x"]) }
        let server = try TestSMTPServer.start()
        defer { server.stop() }
        let url = server.url()
        try await APIHarness.withAPI(.sqlite, configure: { $0.smtpURL = url; $0.smtpVerifyCertificates = false }) { api in
            let registered = try await api.request(
                .post, "/api/auth/register", json: #"{"email": "ada@example.com", "password": "a long passphrase", "display_name": "Ada"}"#)
            #expect(registered.status == .created)
            let mail = try #require(try await server.messages(atLeast: 1).first)
            #expect(mail.text.contains("verify?token=") && mail.text.contains("To: <ada@example.com>"))
            var sent: [OutboxMessage] = []
            for _ in 0..<50 {
                sent = try await api.store.outbox(pendingOnly: false, limit: 10)
                if sent.first?.sentAt != nil { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(sent.first?.sentAt != nil)
        }
        server.stop()
        try await APIHarness.withAPI(.sqlite, configure: { $0.smtpURL = url; $0.smtpVerifyCertificates = false }) { api in
            _ = try await api.request(
                .post, "/api/auth/register", json: #"{"email": "bob@example.com", "password": "a long passphrase", "display_name": "Bob"}"#)
            var pending: [OutboxMessage] = []
            for _ in 0..<100 {
                pending = try await api.store.outbox(pendingOnly: true, limit: 10)
                if pending.first?.lastError != nil { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(pending.count == 1 && pending.first?.lastError?.contains("cannot connect to the SMTP server") == true)
        }
    }
}
