import Foundation
import Retrieval
import Synchronization

/// Token buckets per key (a user, an IP address, an account's login), in memory.
///
/// A bucket holds up to `limit` tokens and refills at `limit` per minute; a request takes one. Shared limits
/// across replicas (Redis) come with the reliability work.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let buckets = Mutex<[String: Bucket]>([:])
    private let clock = ContinuousClock()

    /// Takes a token from `key`'s bucket.
    /// - Returns: `nil` when allowed, else the whole seconds until a token is back (for `Retry-After`).
    func take(_ key: String, limitPerMinute limit: Int) -> Int? {
        guard limit > 0 else { return nil }
        let now = clock.now
        return buckets.withLock { buckets in
            var bucket = refilled(buckets[key], limit: limit, now: now)
            defer {
                buckets[key] = bucket
                if buckets.count > 100_000 { prune(&buckets, now: now) }
            }
            guard bucket.tokens >= 1 else { return Self.wait(tokens: bucket.tokens, limit: limit) }
            bucket.tokens -= 1
            return nil
        }
    }

    /// Whether `key` has a token left, without taking it.
    func retryAfter(_ key: String, limitPerMinute limit: Int) -> Int? {
        guard limit > 0 else { return nil }
        let now = clock.now
        return buckets.withLock { buckets in
            let bucket = refilled(buckets[key], limit: limit, now: now)
            return bucket.tokens >= 1 ? nil : Self.wait(tokens: bucket.tokens, limit: limit)
        }
    }

    private func refilled(_ bucket: Bucket?, limit: Int, now: ContinuousClock.Instant) -> Bucket {
        guard var bucket else { return Bucket(tokens: Double(limit), updated: now) }
        bucket.tokens = min(Double(limit), bucket.tokens + (now - bucket.updated).inSeconds * Double(limit) / 60)
        bucket.updated = now
        return bucket
    }

    private static func wait(tokens: Double, limit: Int) -> Int {
        max(1, Int(((1 - tokens) * 60 / Double(limit)).rounded(.up)))
    }

    /// Drops buckets that have refilled completely (they hold no information).
    private func prune(_ buckets: inout [String: Bucket], now: ContinuousClock.Instant) {
        buckets = buckets.filter { _, bucket in now - bucket.updated < .seconds(60) }
    }
}
