import Logging
import Retrieval
import ServiceLifecycle
import Storage

/// Keeps this server's in-memory indexes in step with knowledge writes made by other processes on the same store:
/// other `omnifin serve` replicas on one PostgreSQL, or `omnifin ingest` runs.
///
/// PostgreSQL announces every committed write on a `LISTEN`/`NOTIFY` channel, so a change made through one replica
/// is searchable on the others a few milliseconds after its commit. Notifications can be missed (the listening
/// connection drops, the server restarts): the bank then catches up from the store's change log, after every
/// reconnect and at least every `pollInterval`, which is also how a SQLite store (no notifications) is followed.
struct KnowledgeFollower: Service {
    let bank: KnowledgeBank
    let logger: Logger
    var pollInterval: Duration = .seconds(2)

    func run() async throws {
        // One pending catch-up is enough however many notifications arrive meanwhile.
        let (wakeUps, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await listen(wake) }
                group.addTask {
                    while (try? await Task.sleep(for: pollInterval)) != nil { wake.yield() }
                }
                for await _ in wakeUps {
                    do {
                        let refreshed = try await bank.catchUp()
                        if refreshed > 0 { logger.info("followed \(refreshed) changed documents to generation \(bank.generation)") }
                    } catch {
                        logger.warning("catching up with the store failed (retried at the next change or poll): \(error)")
                    }
                }
                group.cancelAll()
            }
        }
    }

    /// Follows the store's notifications, reconnecting with backoff, until cancelled.
    private func listen(_ wake: AsyncStream<Void>.Continuation) async {
        var backoff: Duration = .milliseconds(250)
        var lost = false
        while !Task.isCancelled {
            do {
                try await bank.followStoreChanges { wake.yield() }
                // Returned: a store without notifications (polling covers it), or cancelled.
                return
            } catch {
                if !lost { logger.warning("lost the knowledge change notifications, reconnecting: \(error)") }
                lost = true
            }
            guard (try? await Task.sleep(for: backoff)) != nil else { return }
            backoff = min(backoff * 2, .seconds(10))
            wake.yield()
        }
    }
}
