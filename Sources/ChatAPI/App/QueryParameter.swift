import Foundation
import Hummingbird
import Retrieval
import Storage

/// Typed query parameters with precise errors.
enum QueryParameter {
    static func integer(_ query: Parameters, _ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let raw = query.get(name), !raw.isEmpty else { return value }
        guard let number = Int(raw), range.contains(number) else {
            throw APIError.badRequest("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)", field: name)
        }
        return number
    }

    /// A time, or a day (`2026-11-25`, its start in UTC).
    static func date(_ query: Parameters, _ name: String) throws -> Date? {
        guard let raw = query.get(name), !raw.isEmpty else { return nil }
        if let date = StoredJSON.parseDate(raw) { return date }
        if let day = day(raw) { return day }
        throw APIError.badRequest("\(name) must be a date (2026-11-25) or a time (2026-11-25T08:00:00Z)", field: name)
    }

    /// The end of a range: a time as it is, a day (`2026-11-25`) inclusive, so up to the start of the next day.
    static func endDate(_ query: Parameters, _ name: String) throws -> Date? {
        guard let raw = query.get(name), !raw.isEmpty else { return nil }
        if let day = day(raw) { return day.addingTimeInterval(86_400) }
        return try date(query, name)
    }

    private static func day(_ raw: String) -> Date? {
        guard raw.count == 10 else { return nil }
        let day = DateFormatter()
        day.locale = Locale(identifier: "en_US_POSIX")
        day.timeZone = TimeZone(identifier: "UTC")
        day.dateFormat = "yyyy-MM-dd"
        return day.date(from: raw)
    }
}
