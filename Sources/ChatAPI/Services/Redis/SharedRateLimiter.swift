import Foundation
import Logging
import Metrics
import Redis
import Synchronization

extension RateLimiter: RateLimiting {}

/// Token buckets in Redis, shared by every replica: one atomic Lua script per request reads the bucket, refills it by
/// the time passed (the Redis server's clock, so replicas with skewed clocks agree), takes a token when there is one,
/// and sets the bucket to expire once it would be full again. While Redis is away, this replica's in-memory buckets
/// take over.
final class SharedRateLimiter: RateLimiting {
    let redis: RedisClient
    let health: RedisHealth
    let prefix: String
    private let fallback = RateLimiter()

    static let script = RedisScript(
        """
        local limit = tonumber(ARGV[1])
        local take = ARGV[2] == '1'
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
        local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
        local tokens = tonumber(bucket[1]) or limit
        local updated = tonumber(bucket[2]) or now
        tokens = math.min(limit, tokens + math.max(0, now - updated) * limit / 60000)
        local wait = 0
        if tokens >= 1 then
          if take then tokens = tokens - 1 end
        else
          wait = math.max(1, math.ceil((1 - tokens) * 60 / limit))
        end
        redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
        redis.call('PEXPIRE', KEYS[1], 61000)
        return wait
        """)

    init(redis: RedisClient, health: RedisHealth, prefix: String = "omnifin:rate:") {
        self.redis = redis
        self.health = health
        self.prefix = prefix
    }

    func take(_ key: String, limitPerMinute limit: Int) async -> Int? {
        await bucket(key, limit: limit, take: true)
    }

    func retryAfter(_ key: String, limitPerMinute limit: Int) async -> Int? {
        await bucket(key, limit: limit, take: false)
    }

    private func bucket(_ key: String, limit: Int, take: Bool) async -> Int? {
        guard limit > 0 else { return nil }
        do {
            let reply = try await redis.evaluate(Self.script, keys: [prefix + key], arguments: [String(limit), take ? "1" : "0"])
            guard case .integer(let wait) = reply else { throw RedisError(.unexpectedReply, "the rate-limit script answered \(reply)") }
            health.succeeded()
            return wait > 0 ? Int(wait) : nil
        } catch {
            health.failed(error)
            return take ? fallback.take(key, limitPerMinute: limit) : fallback.retryAfter(key, limitPerMinute: limit)
        }
    }
}
