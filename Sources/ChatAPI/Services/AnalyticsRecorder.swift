import Foundation
import Logging
import ServiceLifecycle
import Storage
import Synchronization

/// Records countable events for the admin analytics; a failure to record is logged and never fails the request.
///
/// Events are written in batches: a request only queues its event, and a writer inserts what has queued at most
/// ``delay`` later in one statement, so a busy server commits once per batch instead of once per search. Batches are
/// written one after another, in order. ``flush()`` writes what is queued before it returns: the analytics report and
/// graceful shutdown call it. A crash loses at most ``delay`` of events (analytics only; the audit log is written
/// with the request).
final class AnalyticsRecorder: Sendable {
    let store: any AnalyticsStore
    let logger: Logger
    let delay: Duration
    /// A queue this long is written at once rather than after ``delay``.
    static let batchSize = 500

    private struct Queue {
        var events: [AnalyticsEvent] = []
        var scheduled = false
        /// The last batch handed to the store; the next one starts when it has ended.
        var tail: Task<Void, Never>?
    }
    private let queue = Mutex(Queue())

    init(store: any AnalyticsStore, logger: Logger, delay: Duration = .milliseconds(200)) {
        self.store = store
        self.logger = logger
        self.delay = delay
    }

    func record(_ kind: String, user: String?, data: some Encodable & Sendable = [String: String](), at: Date = Date()) async {
        await record(kind, user: user, json: StoredJSON.encode(data, otherwise: "{}"), at: at)
    }

    /// Records an event whose data is already a JSON object's text.
    func record(_ kind: String, user: String?, json: String, at: Date = Date()) async {
        let event = AnalyticsEvent(kind: kind, userID: user, occurredAt: at, data: json)
        let (now, later) = queue.withLock { queue -> (Bool, Bool) in
            queue.events.append(event)
            if queue.events.count >= Self.batchSize { return (true, false) }
            guard !queue.scheduled else { return (false, false) }
            queue.scheduled = true
            return (false, true)
        }
        if now {
            _ = writeQueued()
        } else if later {
            Task { [delay] in
                try? await Task.sleep(for: delay)
                _ = self.writeQueued()
            }
        }
    }

    /// Writes every event queued so far; returns when they, and every batch before them, are in the store.
    func flush() async {
        await writeQueued().value
    }

    /// Hands what is queued to the store as one batch, after the batches before it.
    private func writeQueued() -> Task<Void, Never> {
        queue.withLock { queue in
            let events = queue.events
            queue.events = []
            queue.scheduled = false
            let previous = queue.tail
            let batch = Task { [store, logger] in
                await previous?.value
                guard !events.isEmpty else { return }
                do {
                    try await store.recordEvents(events)
                } catch {
                    logger.error("cannot record \(events.count) analytics events (\(events.first?.kind ?? "")…): \(error)")
                }
            }
            queue.tail = batch
            return batch
        }
    }
}

/// Writes the analytics events still queued when the server shuts down gracefully.
struct AnalyticsFlusher: Service {
    let recorder: AnalyticsRecorder

    func run() async throws {
        try? await gracefulShutdown()
        await recorder.flush()
    }
}

extension DataSealer {
    /// A text for analytics: a keyed hash of its normalised form (equal questions group together, nobody without
    /// the data key can test a guess against it) and the text itself, sealed.
    func analyticsCopy(_ text: String) -> (key: String, sealed: String?) {
        let normalised = text.lowercased().split(whereSeparator: { $0.isWhitespace || $0.isPunctuation }).joined(separator: " ")
        return (mac("omnifin analytics", normalised), (try? seal(text)).map { Data($0).base64EncodedString() })
    }
}
