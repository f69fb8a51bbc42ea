import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Retrieval
import Storage

/// `/api/admin/analytics` (admins): aggregates and time series as JSON or CSV, and live counters as
/// Server-Sent Events; `POST /api/analytics/events` (any user) records what the web app reports.
package struct AnalyticsController {
    let store: any AnalyticsStore
    /// Where the stream checks its caller's session again.
    let accounts: any AccountStore
    let recorder: AnalyticsRecorder
    let sealer: DataSealer

    package struct ClientEvent: JSONRequestBody {
        var kind: String
        var data: JSONValue?
        package enum CodingKeys: String, CodingKey, CaseIterable { case kind, data }
    }

    var adminEndpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get(use: report)
        routes.get("stream", use: stream)
        return routes
    }

    var userEndpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("events", use: recordClientEvent)
        return routes
    }

    /// Client events are namespaced `client.…` so they can never pose as server events.
    func recordClientEvent(request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.caller()
        let body = try await request.decodeJSON(as: ClientEvent.self, context: context)
        let name = body.kind
        guard (1...64).contains(name.count), name.first?.isLetter == true,
            name.allSatisfy({ ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "_" || $0 == "." })
        else {
            throw APIError.badRequest("kind must be 1–64 characters: lower-case letters, digits, '_' and '.'", field: "kind")
        }
        if let data = body.data {
            guard case .object = data else { throw APIError.badRequest("data must be a JSON object", field: "data") }
            guard data.encodedLength <= 2_048 else { throw APIError.badRequest("data is at most 2 KB of JSON", field: "data") }
        }
        await recorder.record("client." + name, user: caller.user.id, data: body.data ?? .object([:]))
        return Response(status: .accepted)
    }

    func report(request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.caller(in: [.admin])
        let query = request.uri.formParameters
        let interval = try AnalyticsReport.Interval(query.get("interval") ?? "day")
        // The default end is now, inclusive: SQLite keeps event times to the millisecond, so an event recorded in this
        // very millisecond would otherwise fall outside an exclusive end.
        // A day as `to` includes that day.
        let to = try QueryParameter.endDate(query, "to") ?? Date().addingTimeInterval(0.001)
        let from = try QueryParameter.date(query, "from") ?? to.addingTimeInterval(-30 * 86_400)
        guard from < to else { throw APIError.badRequest("from must be before to", field: "from") }
        guard to.timeIntervalSince(from) <= 400 * 86_400 else { throw APIError.badRequest("the range is at most 400 days", field: "to") }
        guard to.timeIntervalSince(from) / interval.seconds <= 5_000 else {
            throw APIError.badRequest("that range has too many \(interval.rawValue)s; pick a longer interval", field: "interval")
        }
        // Events still queued by the recorder count too.
        await recorder.flush()
        let report = try await AnalyticsReport.build(store: store, from: from, to: to, interval: interval, sealer: sealer)
        let format = query.get("format") ?? (request.headers[.accept]?.contains("text/csv") == true ? "csv" : "json")
        switch format {
        case "json": return try context.responseEncoder.encode(report, from: request, context: context)
        case "csv":
            var headers = HTTPFields()
            headers[.contentType] = "text/csv; charset=utf-8"
            headers[.contentDisposition] = "attachment; filename=\"omnifin-analytics-\(interval.rawValue).csv\""
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: report.csv())))
        default: throw APIError.badRequest("format must be json or csv", field: "format")
        }
    }

    /// `event: counters` every `every` seconds (default 5) with today's totals; `count` ends the stream after that
    /// many events (default: until the client goes away). The session is checked again before every event: a
    /// signed-out, expired, disabled or demoted admin gets `event: ended` and the stream closes.
    func stream(request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.caller(in: [.admin])
        let query = request.uri.formParameters
        let every = try QueryParameter.integer(query, "every", default: 5, range: 1...3_600)
        let count = try QueryParameter.integer(query, "count", default: Int.max, range: 1...Int.max)
        let store = store
        let accounts = accounts
        let sealer = sealer
        let recorder = recorder
        let encoder = context.responseEncoder
        return Response.eventStream { writer in
            var sent = 0
            while sent < count {
                if sent > 0, try await !Self.stillAdmin(caller, in: accounts) {
                    try await writer.write(ByteBuffer(string: "event: ended\ndata: {\"reason\": \"the session ended or is no longer an admin's\"}\n\n"))
                    break
                }
                let now = Date()
                let start = Calendar.utc.startOfDay(for: now)
                await recorder.flush()
                let report = try await AnalyticsReport.build(store: store, from: start, to: now.addingTimeInterval(1), interval: .day, sealer: sealer)
                let data = String(decoding: try encoder.encode(report.totals), as: UTF8.self)
                try await writer.write(ByteBuffer(string: "event: counters\nid: \(Int(now.timeIntervalSince1970))\ndata: \(data)\n\n"))
                sent += 1
                if sent < count { try await Task.sleep(for: .seconds(every)) }
            }
            try await writer.finish(nil)
        }
    }

    /// Whether the session that opened a stream is still valid and still an enabled admin's (read from the store,
    /// not from a cache).
    static func stillAdmin(_ caller: AuthenticatedUser, in store: any AccountStore) async throws -> Bool {
        guard let token = try await store.token(hash: caller.tokenHash), token.revokedAt == nil, token.expiresAt > Date(),
            let user = try await store.user(id: caller.user.id)
        else { return false }
        return user.disabledAt == nil && user.role == "admin"
    }
}

extension Calendar {
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}
