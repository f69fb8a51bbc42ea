import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Storage
import Synchronization

/// Concurrent calls for the same key share one run of the work: the first caller starts it, later ones wait for
/// its result (or error) instead of repeating it. Once it has ended, the next call runs the work again.
final class SingleFlight<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let running = Mutex<[Key: Task<Value, any Error>]>([:])

    func run(_ key: Key, _ work: @escaping @Sendable () async throws -> Value) async throws -> Value {
        let task = running.withLock { running in
            if let task = running[key] { return task }
            // The task removes itself when done; it cannot get there before it is registered (same lock).
            let task = Task { [self] in
                defer { _ = self.running.withLock { $0.removeValue(forKey: key) } }
                return try await work()
            }
            running[key] = task
            return task
        }
        return try await task.value
    }
}
