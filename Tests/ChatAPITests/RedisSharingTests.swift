@testable import ChatAPI
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
@testable import Redis
import Storage
import ServerTesting
import StoreTesting
import Testing

@Suite("Redis shared by replicas", .serialized)
struct RedisSharingTests {
    @Test("two replicas share one bucket per key through Redis")
    func sharedBuckets() async throws {
        let configuration = try TestRedis.configuration()
        let prefix = TestRedis.prefix()
        let logger = Logger(label: "test")
        let first = SharedRateLimiter(redis: RedisClient(configuration), health: RedisHealth(description: "test", logger: logger), prefix: prefix)
        let second = SharedRateLimiter(redis: RedisClient(configuration), health: RedisHealth(description: "test", logger: logger), prefix: prefix)
        for limiter in [first, second, first, second, first] {
            #expect(await limiter.take("user:ada", limitPerMinute: 5) == nil)
        }
        let wait = await second.take("user:ada", limitPerMinute: 5)
        #expect(wait != nil && wait! >= 1 && wait! <= 12, "\(String(describing: wait))")
        #expect(await first.retryAfter("user:ada", limitPerMinute: 5) != nil)
        // Another key has its own bucket; 0 turns the limit off.
        #expect(await first.take("user:bob", limitPerMinute: 5) == nil)
        #expect(await first.take("user:ada", limitPerMinute: 0) == nil)
        #expect(first.health.isUp && second.health.isUp)
    }

    @Test("sessions cached in Redis are seen by every replica and forgotten by token and by user; query vectors are shared")
    func sharedCaches() async throws {
        let configuration = try TestRedis.configuration()
        let prefix = TestRedis.prefix()
        let logger = Logger(label: "test")
        let health = RedisHealth(description: "test", logger: logger)
        let first = RedisSessionCache(redis: RedisClient(configuration), health: health, prefix: prefix)
        let second = RedisSessionCache(redis: RedisClient(configuration), health: health, prefix: prefix)
        let now = Date(timeIntervalSince1970: 1_800_000_000.125)
        let ada = UserRecord(
            id: "u-ada", email: "ada@example.com", displayName: "Ada", passwordHash: "$2b$04$x", role: "editor", groups: ["finance"], verifiedAt: now,
            createdAt: now, updatedAt: now)
        let session = CachedSession(user: ada, tokenExpiresAt: now.addingTimeInterval(3600))
        await first.remember(session, tokenHash: "hash-1")
        await first.remember(session, tokenHash: "hash-2")
        #expect(await second.session(tokenHash: "hash-1") == session)
        #expect(await second.session(tokenHash: "hash-2")?.user == ada)
        await second.forget(tokenHash: "hash-1")
        #expect(await first.session(tokenHash: "hash-1") == nil)
        #expect(await first.session(tokenHash: "hash-2") != nil)
        await second.forget(userID: "u-ada")
        #expect(await first.session(tokenHash: "hash-2") == nil)
        // The token itself is never a key: only its hash, which the caller passes.
        let keys = try await RedisClient(configuration).send(["KEYS", prefix + "*"])
        #expect(keys == .array([]), "\(keys)")

        let vectors = (0..<2).map { _ in RedisQueryVectorCache(redis: RedisClient(configuration), health: health, prefix: prefix) }
        let vector: [Float] = [0.25, -1.5, 3e-8, .pi]
        await vectors[0].remember(vector, model: "m", text: "who approves invoices?")
        #expect(await vectors[1].vector(model: "m", text: "who approves invoices?") == vector)
        #expect(await vectors[1].vector(model: "other", text: "who approves invoices?") == nil)
        guard case .array(let stored?) = try await RedisClient(configuration).send(["KEYS", prefix + "*"]) else {
            Issue.record("KEYS did not answer an array")
            return
        }
        let names = stored.compactMap(\.string)
        #expect(names.count == 1 && names[0].hasPrefix(prefix + "query-vector:") && !names[0].contains("invoices"), "\(names)")
        #expect(health.isUp)
    }

    @Test("Redis going away: requests keep being limited in memory at once, the outage is reported, and Redis is used again when it returns")
    func outage() async throws {
        let server = TestRedis.OwnServer()
        try server.start()
        defer { server.stop() }
        try await server.waitUntilUp()
        var configuration = RedisClient.Configuration(host: "127.0.0.1", port: server.port)
        configuration.commandTimeout = .milliseconds(300)
        let client = RedisClient(configuration)
        let health = RedisHealth(description: configuration.description, logger: Logger(label: "test"))
        let limiter = SharedRateLimiter(redis: client, health: health, prefix: TestRedis.prefix())
        #expect(await limiter.take("ip:a", limitPerMinute: 3) == nil)
        #expect(health.isUp)

        server.stop()
        let started = ContinuousClock.now
        // The in-memory buckets take over (fresh: three more requests pass, the fourth waits).
        var answers: [Int?] = []
        for _ in 0..<4 { answers.append(await limiter.take("ip:a", limitPerMinute: 3)) }
        #expect(ContinuousClock.now - started < .seconds(3), "falling back took \(ContinuousClock.now - started)")
        #expect(answers.prefix(3).allSatisfy { $0 == nil } && answers[3] != nil, "\(answers)")
        #expect(!health.isUp && health.lastError != nil)

        try server.start()
        try await server.waitUntilUp()
        var back = false
        for _ in 0..<100 where !back {
            _ = await limiter.take("ip:b", limitPerMinute: 1000)
            back = health.isUp
            if !back { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(back, "Redis was not used again after it returned")
        await client.shutdown()
    }

    @Test("OMNIFIN_REDIS_URL: the per-IP limit holds across two servers, and /readyz reports Redis")
    func twoReplicas() async throws {
        let redis = try TestRedis.configuration()
        let prefix = TestRedis.prefix()
        let configure: @Sendable (inout ServerConfiguration) -> Void = { configuration in
            configuration.redis = redis
            configuration.redisKeyPrefix = prefix
            configuration.rateLimitPerMinute = 4
        }
        try await APIHarness.withAPI(.sqlite, configure: configure) { first in
            try await APIHarness.withAPI(.sqlite, configure: configure) { second in
                let ready = try await first.request(.get, "/readyz")
                let status = try #require(ready.body["redis"] as? [String: Any])
                #expect(status["status"] as? String == "up", "\(ready.body)")
                // The public auth routes are limited per client address: two requests on each server, then the fifth
                // on either is refused.
                for (index, api) in [first, second, first, second].enumerated() {
                    let sent = try await api.request(.post, "/api/auth/resend-verification", json: #"{"email": "x\#(index)@example.com"}"#)
                    #expect(sent.status != .tooManyRequests, "request \(index): \(sent.body)")
                }
                let refused = try await second.request(.post, "/api/auth/resend-verification", json: #"{"email": "y@example.com"}"#)
                #expect(refused.status == .tooManyRequests && refused.headers[.retryAfter] != nil, "\(refused.body)")
            }
        }
    }
}
