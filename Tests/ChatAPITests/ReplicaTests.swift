@testable import ChatAPI
import Foundation
import HTTPTypes
import Retrieval
import StoreTesting
import ServerTesting
import Testing

/// Two `omnifin serve` replicas on one PostgreSQL database, each on its own socket with its background services.
@Suite("Several replicas on one PostgreSQL", .serialized)
struct ReplicaTests {
    /// Both replicas share the data key and Redis, as replicas of one deployment do; only notifications (and
    /// reconnects) bring knowledge changes across: the change log is not polled within the test's time.
    static func configuration() throws -> @Sendable (inout ServerConfiguration) -> Void {
        let redis = try TestRedis.configuration()
        let prefix = TestRedis.prefix()
        return { configuration in
            configuration.dataKey = Data(repeating: 7, count: 32).base64EncodedString()
            configuration.followInterval = .seconds(120)
            configuration.redis = redis
            configuration.redisKeyPrefix = prefix
        }
    }

    /// Polls `api` until `done` holds for the search's hit ids, for at most `within`; returns the time it took.
    static func waitForSearch(
        _ api: APIHarness.Context, token: String, query: String, within: Duration = .seconds(1), until done: ([String]) -> Bool
    ) async throws -> Duration? {
        let started = ContinuousClock.now
        let path = "/api/knowledge?q=\(query.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)&k=5"
        while ContinuousClock.now - started < within {
            let found = try await api.request(.get, path, token: token)
            let ids = ((found.body["hits"] as? [[String: Any]]) ?? []).compactMap { $0["document_id"] as? String }
            if done(ids) { return ContinuousClock.now - started }
            try await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    @Test("a knowledge change through one replica is searchable on the other within a second; a lost notification connection is caught up")
    func knowledgeFollows() async throws {
        let configure = try Self.configuration()
        try await TestStores.withDatabaseURL(.postgres) { url in
            try await APIHarness.withAPI(.postgres, databaseURL: url, live: true, configure: configure) { first in
                try await APIHarness.withAPI(.postgres, databaseURL: url, live: true, configure: configure) { second in
                    let admin = try await first.signUpAdmin("admin@example.com")
                    // The session made through the first replica is valid on the second.
                    #expect(try await second.request(.get, "/api/auth/profile", token: admin).status == .ok)

                    let created = try await first.request(
                        .post, "/api/knowledge", token: admin,
                        json: #"{"title": "Petty cash", "body": "The petty cash float at the Lisbon office is 300 EUR, counted every Friday."}"#)
                    #expect(created.status == .created, "\(created.body)")
                    let id = try #require((created.body["document"] as? [String: Any])?["id"] as? String)
                    let seen = try await Self.waitForSearch(second, token: admin, query: "petty cash float Lisbon") { $0.contains(id) }
                    #expect(seen != nil, "the second replica did not find the new document within a second")

                    let updated = try await second.request(
                        .put, "/api/knowledge/\(id)", token: admin,
                        json: #"{"title": "Petty cash", "body": "The Lisbon petty cash float is now held in a safe, topped up to 500 EUR monthly."}"#)
                    #expect(updated.status == .ok, "\(updated.body)")
                    let topped = try await Self.waitForSearch(first, token: admin, query: "petty cash safe topped up monthly") { $0.first == id }
                    #expect(topped != nil, "the first replica did not follow the update within a second")
                    let text = try await first.request(.get, "/api/knowledge/\(id)", token: admin).body["body"] as? String
                    #expect(text?.contains("500 EUR") == true)

                    // The second replica's notification connection goes away; a write meanwhile still reaches it.
                    #expect(try await PostgresDatabases.terminateListeners(databaseURL: url) >= 2)
                    #expect(try await first.request(.delete, "/api/knowledge/\(id)", token: admin).status == .noContent)
                    // (Searching would not tell: a hit whose document is gone from the store is dropped anyway.)
                    let started = ContinuousClock.now
                    while second.bank.generation < first.bank.generation, ContinuousClock.now - started < .seconds(5) {
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    #expect(first.bank.generation == second.bank.generation, "the second replica did not catch up after losing its notifications")
                    #expect(second.bank.documentCount == 0)
                    #expect(first.bank.vectorCount == second.bank.vectorCount && first.bank.passageCount == second.bank.passageCount)

                    // Signing out through one replica ends the session on the other at once (sessions are cached in Redis).
                    #expect(try await second.request(.post, "/api/auth/logout", token: admin).status == .noContent)
                    #expect(try await first.request(.get, "/api/auth/profile", token: admin).status == .unauthorized)
                }
            }
        }
    }
}
