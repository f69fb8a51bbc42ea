import Foundation
import Hummingbird
import Storage

/// Aggregates of the analytics events over a time range: totals, one row per interval, and the questions the
/// knowledge bank could not answer (the knowledge managers' to-do list).
struct AnalyticsReport: ResponseEncodable {
    enum Interval: String, Sendable {
        case hour, day, week

        init(_ raw: String) throws {
            guard let value = Interval(rawValue: raw) else { throw APIError.badRequest("interval must be hour, day or week", field: "interval") }
            self = value
        }

        var seconds: TimeInterval {
            switch self {
            case .hour: 3_600
            case .day: 86_400
            case .week: 7 * 86_400
            }
        }
    }

    struct Counters: Encodable, Sendable {
        var messages = 0
        var answered = 0
        var unanswered = 0
        var activeUsers = 0
        var logins = 0
        var searches = 0
        var feedbackUp = 0
        var feedbackDown = 0
        var voiceMessages = 0
        var registrations = 0
        var failedLogins = 0
        var knowledgeChanges = 0
        var rateLimited = 0
        var latencyMsAvg: Double?
        var latencyMsP95: Double?
    }

    struct Bucket: Encodable, Sendable {
        var start: Date
        var counters: Counters

        enum CodingKeys: String, CodingKey { case start }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(start, forKey: .start)
            try counters.encode(to: encoder)
        }
    }

    struct UnansweredQuestion: Encodable, Sendable {
        var question: String
        var askedAt: Date
        var userId: String?
    }

    var from: Date
    var to: Date
    var interval: String
    var totals: Counters
    var series: [Bucket]
    var unansweredQuestions: [UnansweredQuestion]
    var topQuestions: [TopQuery]
    var topSearches: [TopQuery]

    struct TopQuery: Encodable, Sendable {
        var text: String
        var count: Int
        var unanswered: Int
    }

    /// Groups texts by their keyed hash (sealed texts cannot be compared), keeping one sealed copy to show.
    private struct Tally {
        var counts: [String: (count: Int, unanswered: Int, sealed: String)] = [:]

        mutating func add(key: String?, sealed: String?, answered: Bool) {
            guard let key, let sealed else { return }
            var entry = counts[key] ?? (0, 0, sealed)
            entry.count += 1
            if !answered { entry.unanswered += 1 }
            counts[key] = entry
        }

        func top(_ limit: Int, sealer: DataSealer) -> [TopQuery] {
            counts.values.sorted { $0.count > $1.count }.prefix(limit).compactMap { entry in
                guard let bytes = Data(base64Encoded: entry.sealed), let text = try? sealer.open([UInt8](bytes)) else { return nil }
                return TopQuery(text: text, count: entry.count, unanswered: entry.unanswered)
            }
        }
    }

    /// The chat events carry these fields.
    private struct ChatData: Decodable {
        var latencyMs: Double?
        var answered: Bool?
        var questionSealed: String?
        var questionKey: String?
        var voice: Bool?
    }

    private struct SearchData: Decodable {
        var queryKey: String?
        var querySealed: String?
    }

    private struct FeedbackData: Decodable {
        var value: Int?
    }

    /// Reads the events page by page and aggregates them.
    /// - Complexity: O(events in the range), in pages of 5,000.
    static func build(store: any AnalyticsStore, from: Date, to: Date, interval: Interval, sealer: DataSealer) async throws -> AnalyticsReport {
        let origin = Calendar.utc.startOfDay(for: from)
        let alignedStart = origin.addingTimeInterval((from.timeIntervalSince(origin) / interval.seconds).rounded(.down) * interval.seconds)
        let start = interval == .hour || interval == .day ? alignedStart : from
        let bucketCount = max(1, Int((to.timeIntervalSince(start) / interval.seconds).rounded(.up)))
        var buckets = [Accumulator](repeating: Accumulator(), count: bucketCount)
        var total = Accumulator()
        var unanswered: [UnansweredQuestion] = []
        var questions = Tally()
        var searches = Tally()
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        var after: Int64?
        while true {
            let page = try await store.analyticsEvents(from: from, to: to, kinds: nil, afterID: after, limit: 5_000)
            for event in page {
                let index = min(bucketCount - 1, max(0, Int(event.occurredAt.timeIntervalSince(start) / interval.seconds)))
                let data = Data(event.data.utf8)
                switch event.kind {
                case "chat.message":
                    let chat = (try? decoder.decode(ChatData.self, from: data)) ?? ChatData()
                    buckets[index].addMessage(chat.latencyMs, answered: chat.answered ?? true, voice: chat.voice ?? false)
                    total.addMessage(chat.latencyMs, answered: chat.answered ?? true, voice: chat.voice ?? false)
                    questions.add(key: chat.questionKey, sealed: chat.questionSealed, answered: chat.answered ?? true)
                    if chat.answered == false, let sealed = chat.questionSealed.flatMap({ Data(base64Encoded: $0) }),
                        let question = try? sealer.open([UInt8](sealed))
                    {
                        unanswered.append(UnansweredQuestion(question: question, askedAt: event.occurredAt, userId: event.userID))
                    }
                case "chat.feedback":
                    let value = (try? decoder.decode(FeedbackData.self, from: data))?.value ?? 0
                    buckets[index].addFeedback(value)
                    total.addFeedback(value)
                case "auth.login":
                    buckets[index].counters.logins += 1
                    total.counters.logins += 1
                case "knowledge.search":
                    buckets[index].counters.searches += 1
                    total.counters.searches += 1
                    let search = (try? decoder.decode(SearchData.self, from: data)) ?? SearchData()
                    searches.add(key: search.queryKey, sealed: search.querySealed, answered: true)
                case "auth.register":
                    buckets[index].counters.registrations += 1
                    total.counters.registrations += 1
                case "auth.login_failed":
                    buckets[index].counters.failedLogins += 1
                    total.counters.failedLogins += 1
                case "knowledge.change":
                    buckets[index].counters.knowledgeChanges += 1
                    total.counters.knowledgeChanges += 1
                case "security.rate_limited":
                    buckets[index].counters.rateLimited += 1
                    total.counters.rateLimited += 1
                default: break
                }
                if let user = event.userID {
                    buckets[index].users.insert(user)
                    total.users.insert(user)
                }
            }
            guard page.count == 5_000, let last = page.last?.id else { break }
            after = last
        }
        return AnalyticsReport(
            from: from, to: to, interval: interval.rawValue, totals: total.finished(),
            series: buckets.enumerated().map { Bucket(start: start.addingTimeInterval(Double($0.offset) * interval.seconds), counters: $0.element.finished()) },
            unansweredQuestions: Array(unanswered.reversed().prefix(200)), topQuestions: questions.top(20, sealer: sealer),
            topSearches: searches.top(20, sealer: sealer))
    }

    /// One row per interval, with a header; numbers only, so no cell needs quoting except the date.
    func csv() -> String {
        let formatter = ISO8601DateFormatter()
        var lines = [
            "start,messages,answered,unanswered,active_users,logins,searches,feedback_up,feedback_down,voice_messages,registrations,failed_logins,"
                + "knowledge_changes,rate_limited,latency_ms_avg,latency_ms_p95"
        ]
        for bucket in series {
            let c = bucket.counters
            let cells: [String] = [
                formatter.string(from: bucket.start), "\(c.messages)", "\(c.answered)", "\(c.unanswered)", "\(c.activeUsers)", "\(c.logins)",
                "\(c.searches)", "\(c.feedbackUp)", "\(c.feedbackDown)", "\(c.voiceMessages)", "\(c.registrations)", "\(c.failedLogins)",
                "\(c.knowledgeChanges)", "\(c.rateLimited)", c.latencyMsAvg.map { String(format: "%.1f", $0) } ?? "",
                c.latencyMsP95.map { String(format: "%.1f", $0) } ?? "",
            ]
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    private struct Accumulator {
        var counters = Counters()
        var users = Set<String>()
        var latencies: [Double] = []

        mutating func addMessage(_ latency: Double?, answered: Bool, voice: Bool) {
            counters.messages += 1
            if answered { counters.answered += 1 } else { counters.unanswered += 1 }
            if voice { counters.voiceMessages += 1 }
            if let latency { latencies.append(latency) }
        }

        mutating func addFeedback(_ value: Int) {
            if value > 0 { counters.feedbackUp += 1 } else if value < 0 { counters.feedbackDown += 1 }
        }

        func finished() -> Counters {
            var counters = counters
            counters.activeUsers = users.count
            if !latencies.isEmpty {
                let sorted = latencies.sorted()
                counters.latencyMsAvg = sorted.reduce(0, +) / Double(sorted.count)
                counters.latencyMsP95 = sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.95).rounded(.up)) - 1)]
            }
            return counters
        }
    }
}
