import Foundation
import Logging
import Metrics
import Synchronization

/// Where rate-limit buckets live: this process's memory, or Redis for every replica at once.
protocol RateLimiting: Sendable {
    /// Takes a token from `key`'s bucket; `nil` when allowed, else whole seconds until a token is back.
    func take(_ key: String, limitPerMinute: Int) async -> Int?
    /// Whether `key` has a token left, without taking it.
    func retryAfter(_ key: String, limitPerMinute: Int) async -> Int?
}
