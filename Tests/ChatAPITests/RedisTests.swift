@testable import ChatAPI
import Foundation
import Storage
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import StoreTesting
import Testing

/// The Redis that `make test` starts on loopback (scripts/test-redis.sh); a test that needs it fails when it is missing.
enum TestRedis {
    struct Missing: Error, CustomStringConvertible {
        var description: String { "OMNIFIN_TEST_REDIS_URL is not set: run the tests with make test (it starts Redis on 127.0.0.1:56379)" }
    }

    static func configuration() throws -> RedisClient.Configuration {
        guard let url = ProcessInfo.processInfo.environment["OMNIFIN_TEST_REDIS_URL"], !url.isEmpty else { throw Missing() }
        return try RedisClient.Configuration(url: url)
    }

    /// A prefix no other test run uses, so keys from earlier runs cannot interfere.
    static func prefix() -> String { "omnifin-test-\(UUID().uuidString.prefix(8)):" }

    /// A redis-server of the test's own, on a free port, that the test may stop and start again.
    final class OwnServer: @unchecked Sendable {
        let port: Int
        private var process: Process?

        init() {
            port = 20_000 + Int.random(in: 0..<20_000)
        }

        func start() throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
            process.arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            self.process = process
        }

        func stop() {
            guard let process else { return }
            kill(process.processIdentifier, SIGKILL)
            for _ in 0..<100 where process.isRunning { usleep(20_000) }
            self.process = nil
        }

        func waitUntilUp() async throws {
            let client = RedisClient(RedisClient.Configuration(host: "127.0.0.1", port: port))
            for _ in 0..<100 {
                if (try? await client.ping()) != nil { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            await client.shutdown()
        }
    }
}

@Suite("RESP")
struct RESPTests {
    @Test("values parse whole or not at all, however the bytes are split; nonsense is refused")
    func parsing() throws {
        let wire = "+OK\r\n-ERR wrong\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*2\r\n$1\r\na\r\n*1\r\n:7\r\n*-1\r\n$0\r\n\r\n"
        let expected: [RESPValue] = [
            .simple("OK"), .error("ERR wrong"), .integer(42), .bulk(Array("hello".utf8)), .bulk(nil),
            .array([.bulk(Array("a".utf8)), .array([.integer(7)])]), .array(nil), .bulk([]),
        ]
        // Every split point: the parser never returns half a value and never loses bytes.
        let bytes = Array(wire.utf8)
        for split in 0...bytes.count {
            var buffer = ByteBuffer(bytes: bytes[..<split])
            var values: [RESPValue] = []
            while let value = try RESP.parse(&buffer) { values.append(value) }
            buffer.writeBytes(bytes[split...])
            while let value = try RESP.parse(&buffer) { values.append(value) }
            #expect(values == expected, "split at \(split)")
            #expect(buffer.readableBytes == 0)
        }
        for bad in ["?what\r\n", ":12x\r\n", "$3\r\nabcd\r\n", "*-5\r\n", "+OK\rX"] {
            var buffer = ByteBuffer(string: bad)
            #expect(throws: RESP.ProtocolError.self, "\(bad.debugDescription)") { _ = try RESP.parse(&buffer) }
        }
        var encoded = ByteBuffer()
        RESP.encode([Array("SET".utf8), Array("k".utf8), [0, 13, 10]], into: &encoded)
        #expect(String(decoding: encoded.readableBytesView, as: UTF8.self) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n\u{0}\r\n\r\n")
    }

    @Test("OMNIFIN_REDIS_URL is parsed with its password and database, and bad ones are refused")
    func urls() throws {
        let full = try RedisClient.Configuration(url: "redis://app:s%40cret@cache.internal:6380/3")
        #expect(full.host == "cache.internal" && full.port == 6380 && full.username == "app" && full.password == "s@cret" && full.database == 3)
        let passwordOnly = try RedisClient.Configuration(url: "redis://:pw@127.0.0.1")
        #expect(passwordOnly.username == nil && passwordOnly.password == "pw" && passwordOnly.port == 6379 && passwordOnly.database == 0)
        for bad in ["http://127.0.0.1:6379", "redis://", "redis://host/99", "redis://host/x"] {
            #expect(throws: ServerConfiguration.Invalid.self, "\(bad)") { try RedisClient.Configuration(url: bad) }
        }
    }
}

@Suite("Redis", .serialized)
struct RedisTests {
    @Test("the client speaks to a real Redis: PING, SET EX, GET, INCR, EXPIRE, DEL, EVALSHA after NOSCRIPT, pipelined calls")
    func commands() async throws {
        let client = RedisClient(try TestRedis.configuration())
        defer { Task { await client.shutdown() } }
        let prefix = TestRedis.prefix()
        try await client.ping()
        try await client.set(prefix + "bytes", [0, 1, 2, 255], expireSeconds: 60)
        #expect(try await client.get(prefix + "bytes") == [0, 1, 2, 255])
        #expect(try await client.get(prefix + "missing") == nil)
        #expect(try await client.increment(prefix + "n") == 1)
        #expect(try await client.increment(prefix + "n") == 2)
        try await client.expire(prefix + "n", seconds: 60)
        try await client.delete([prefix + "n"])
        #expect(try await client.get(prefix + "n") == nil)
        // A script the server has never seen: EVALSHA answers NOSCRIPT, EVAL loads it, EVALSHA works from then on.
        let script = RedisScript("return tonumber(ARGV[1]) + \(Int.random(in: 1...1_000_000)) * 0 + 1")
        #expect(try await client.evaluate(script, keys: [], arguments: ["41"]) == .integer(42))
        #expect(try await client.send(["EVALSHA", script.sha1, "0", "1"]) == .integer(2))
        // Many calls at once share the few connections, each answered with its own reply.
        let results = try await withThrowingTaskGroup(of: (Int, Int64).self) { group in
            for index in 0..<200 { group.addTask { (index, try await client.increment(prefix + "counter-\(index % 7)")) } }
            var all: [(Int, Int64)] = []
            for try await result in group { all.append(result) }
            return all
        }
        #expect(results.count == 200)
        #expect(try await client.get(prefix + "counter-0").map { String(decoding: $0, as: UTF8.self) } == "29")
        // A Redis error reply is an error with its message.
        await #expect(throws: RedisClient.Failure.self) { try await client.send(["INCR"]) }
    }

    @Test("a wrong password is refused with Redis's message")
    func wrongPassword() async throws {
        var configuration = try TestRedis.configuration()
        configuration.password = "not the password"
        let client = RedisClient(configuration)
        do {
            try await client.ping()
            Issue.record("PING worked with a wrong password")
        } catch {
            #expect("\(error)".contains("WRONGPASS") || "\(error)".contains("invalid"), "\(error)")
        }
    }

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
