import Synchronization

/// Hands one continuation the first of several results (the work's, the deadline's, a cancellation): the others are
/// dropped. See ``PostgresStore/withDeadline(_:)``.
final class DeadlineRace<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var result: Result<T, any Error>?
        var onFinish: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())

    /// Gives the race its continuation; resumes it at once when a result came first (a cancellation).
    func start(_ continuation: CheckedContinuation<T, any Error>) {
        let early = state.withLock { state -> Result<T, any Error>? in
            if let result = state.result { return result }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    /// Runs `action` once the race is decided (at once when it already is).
    func onFinish(_ action: @escaping @Sendable () -> Void) {
        let decided = state.withLock { state -> Bool in
            if state.result != nil { return true }
            state.onFinish = action
            return false
        }
        if decided { action() }
    }

    /// Offers a result; returns whether it was the first.
    @discardableResult
    func finish(_ result: Result<T, any Error>) -> Bool {
        let won = state.withLock { state -> (CheckedContinuation<T, any Error>?, (@Sendable () -> Void)?)? in
            guard state.result == nil else { return nil }
            state.result = result
            defer {
                state.continuation = nil
                state.onFinish = nil
            }
            return (state.continuation, state.onFinish)
        }
        guard let won else { return false }
        won.0?.resume(with: result)
        won.1?()
        return true
    }
}
