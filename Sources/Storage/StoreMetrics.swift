import Metrics

/// Times store operations with swift-metrics (`omnifin_store_query_duration_seconds{store, operation}`); the
/// server bootstraps a Prometheus factory, elsewhere the timers cost nothing.
enum StoreMetrics {
    static func timed<T>(_ store: String, _ operation: String, _ body: () async throws -> T) async rethrows -> T {
        let started = ContinuousClock.now
        defer {
            Timer(label: "omnifin_store_query_duration_seconds", dimensions: [("store", store), ("operation", operation)])
                .recordInterval(since: started)
        }
        return try await body()
    }
}

extension Timer {
    /// Records the time since `start`.
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
