import Foundation
import Logging
import Storage

/// Records countable events for the admin analytics; a failure to record is logged and never fails the request.
struct AnalyticsRecorder: Sendable {
    let store: any AnalyticsStore
    let logger: Logger

    func record(_ kind: String, user: String?, data: some Encodable & Sendable = [String: String](), at: Date = Date()) async {
        let json = JSONText.encode(data, otherwise: "{}")
        do {
            try await store.recordEvents([AnalyticsEvent(kind: kind, userID: user, occurredAt: at, data: json)])
        } catch {
            logger.error("cannot record the analytics event \(kind): \(error)")
        }
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
