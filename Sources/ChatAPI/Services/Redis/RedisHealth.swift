import Foundation
import Logging
import Metrics
import Synchronization

/// Whether Redis answers, as the server reports it: one log line when it goes away and one when it is back (not one
/// per request), `omnifin_redis_up` (1 or 0) and `omnifin_redis_fallbacks_total` in `/metrics`, and `/readyz`.
final class RedisHealth: Sendable {
    private let state = Mutex<(up: Bool, lastError: String?)>((true, nil))
    private let logger: Logger
    let description: String
    private let upGauge = Gauge(label: "omnifin_redis_up")
    private let fallbacks = Counter(label: "omnifin_redis_fallbacks_total")

    init(description: String, logger: Logger) {
        self.description = description
        self.logger = logger
        upGauge.record(1)
    }

    var isUp: Bool { state.withLock { $0.up } }
    var lastError: String? { state.withLock { $0.lastError } }

    func succeeded() {
        let cameBack = state.withLock { state -> Bool in
            defer { state = (true, nil) }
            return !state.up
        }
        if cameBack {
            upGauge.record(1)
            logger.notice("Redis at \(description) answers again: rate limits and caches are shared again")
        }
    }

    func failed(_ error: any Error) {
        fallbacks.increment()
        let wentAway = state.withLock { state -> Bool in
            defer { state = (false, "\(error)") }
            return state.up
        }
        if wentAway {
            upGauge.record(0)
            logger.error("Redis at \(description) does not answer (\(error)): rate limits and caches fall back to this replica's memory until it does")
        }
    }
}
