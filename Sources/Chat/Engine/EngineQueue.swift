import Synchronization

/// Turns waiting for a generator that answers one at a time (the local engine): `slots` run, at most `limit` wait in
/// arrival order, and the next one is refused at once rather than waiting behind a queue that cannot drain in time.
final class EngineQueue: Sendable {
    /// The queue is full: the turn should come back after about `retryAfter` seconds.
    struct Full: Error {
        var retryAfter: Int
    }

    private struct State {
        var running = 0
        var waiting: [(id: Int, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID = 0
        /// Seconds the last turns held a slot (a moving average), for `Retry-After`.
        var averageSeconds = 10.0
    }

    let slots: Int
    let limit: Int
    private let state = Mutex(State())

    init(slots: Int = 1, limit: Int) {
        self.slots = max(1, slots)
        self.limit = max(0, limit)
    }

    /// Turns running and waiting now.
    var load: (running: Int, waiting: Int) { state.withLock { ($0.running, $0.waiting.count) } }

    /// Runs `body` once a slot is free.
    /// - Throws: ``Full`` when `limit` turns already wait; `CancellationError` when the caller goes away while waiting;
    ///   what `body` throws.
    func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        let started = ContinuousClock.now
        defer { release(after: ContinuousClock.now - started) }
        return try await body()
    }

    private func acquire() async throws {
        let id: Int? = try state.withLock { state -> Int? in
            if state.running < slots, state.waiting.isEmpty {
                state.running += 1
                return nil
            }
            guard state.waiting.count < limit else {
                let rounds = Double(state.waiting.count + state.running) / Double(slots)
                throw Full(retryAfter: max(1, Int((rounds * state.averageSeconds).rounded(.up))))
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let cancelled = state.withLock { state -> Bool in
                    if Task.isCancelled { return true }
                    state.waiting.append((id, continuation))
                    return false
                }
                if cancelled { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiting.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiting.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    private func release(after held: Duration) {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            let seconds = Double(held.components.seconds) + Double(held.components.attoseconds) / 1e18
            state.averageSeconds = 0.8 * state.averageSeconds + 0.2 * max(0.1, seconds)
            // The slot passes straight to the first waiter.
            if !state.waiting.isEmpty { return state.waiting.removeFirst().continuation }
            state.running -= 1
            return nil
        }
        next?.resume()
    }
}
