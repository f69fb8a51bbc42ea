import Foundation
import NIOCore
@testable import Redis
import ServerTesting
import Testing

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
            #expect(throws: RedisError.self, "\(bad)") { try RedisClient.Configuration(url: bad) }
        }
    }
}

@Suite("Redis client", .serialized)
struct RedisClientTests {
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
        let failure = await #expect(throws: RedisError.self) { try await client.send(["INCR"]) }
        #expect(failure?.code == .replyError && failure?.message.contains("wrong number of arguments") == true)
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

}
