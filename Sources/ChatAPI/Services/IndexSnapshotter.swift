import Foundation
import Logging
import Retrieval
import ServiceLifecycle
import Synchronization

/// How the index snapshots have gone, for `/readyz` and `/metrics` (`omnifin_snapshot_failing`,
/// `omnifin_snapshot_failures`, `omnifin_snapshot_generation`).
final class SnapshotHealth: Sendable {
    struct Status: Sendable, Encodable {
        /// `ok`, `failing` (the last attempt failed; the server keeps serving from memory) or `none` (nothing saved yet).
        var status: String
        var path: String?
        /// The store generation of the last snapshot written.
        var generation: Int64?
        var savedAt: Date?
        var error: String?
        /// Failed attempts since the server started.
        var failures = 0

        /// What `/readyz` (public) shows: no file path and no error text, which may name one (both are in the log).
        enum CodingKeys: String, CodingKey { case status, generation, savedAt, failures }
    }

    private let state: Mutex<Status>

    init(path: String?) {
        state = Mutex(Status(status: "none", path: path))
    }

    var status: Status { state.withLock { $0 } }

    func saved(generation: Int64) {
        state.withLock { $0 = Status(status: "ok", path: $0.path, generation: generation, savedAt: Date(), error: nil, failures: $0.failures) }
    }

    func failed(_ error: any Error) {
        state.withLock { state in
            state.status = "failing"
            state.error = "\(error)"
            state.failures += 1
        }
    }
}

/// Writes the index snapshot when the knowledge has changed, every `interval`, and at graceful shutdown, so that a
/// restart loads instead of rebuilding. A failed write (a full disk, a read-only folder) is logged, counted and shown
/// in `/readyz`; the server keeps serving from memory and tries again at the next interval.
struct IndexSnapshotter: Service {
    let bank: KnowledgeBank
    let health: SnapshotHealth
    let logger: Logger
    /// `nil`: only at shutdown.
    var interval: Duration?

    func run() async throws {
        if let interval {
            await cancelWhenGracefulShutdown {
                var saved = bank.generation
                while (try? await Task.sleep(for: interval)) != nil {
                    let generation = bank.generation
                    guard generation != saved || health.status.status == "failing" else { continue }
                    if await save() { saved = generation }
                }
            }
        } else {
            try? await gracefulShutdown()
        }
        await save()
    }

    /// Writes one snapshot; returns whether it was written.
    @discardableResult
    func save() async -> Bool {
        do {
            guard let path = try await bank.saveSnapshot() else { return false }
            health.saved(generation: bank.generation)
            logger.info("saved the index snapshot to \(path) at generation \(bank.generation)")
            return true
        } catch {
            let wasFailing = health.status.status == "failing"
            health.failed(error)
            // One error line per outage, not one per attempt.
            if !wasFailing { logger.error("saving the index snapshot failed; serving on from memory and retrying: \(error)") }
            return false
        }
    }
}
