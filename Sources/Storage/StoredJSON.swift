public import Foundation

/// Values stored as JSON text (citations and timings of messages, audit details, analytics data): snake_case keys,
/// sorted, times in ISO 8601 with milliseconds; read back the same way.
public enum StoredJSON {
    /// The value as JSON text, or `fallback` when it cannot be encoded.
    public static func encode(_ value: some Encodable, otherwise fallback: String = "null") -> String {
        (try? encoder.encode(value)).flatMap { String(data: $0, encoding: .utf8) } ?? fallback
    }

    /// The value of stored JSON text, or `nil` when it is not one.
    public static func decode<T: Decodable>(_ type: T.Type, from text: String) -> T? {
        try? decoder.decode(T.self, from: Data(text.utf8))
    }

    /// How responses and stored values are written.
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        // Milliseconds, so a time used as a page cursor is exact.
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(format(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// How requests and stored values are read.
    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = parseDate(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 time"))
            }
            return date
        }
        return decoder
    }

    /// ISO 8601 with milliseconds, in UTC.
    public static func format(_ date: Date) -> String {
        ISO8601DateFormatter.string(from: date, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withInternetDateTime, .withFractionalSeconds])
    }

    /// ISO 8601 with or without fractions.
    public static func parseDate(_ text: String) -> Date? {
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }
}

extension StoredJSON {
    /// A JSON boolean as `JSONSerialization` hands it over: `true`/`false` is an NSNumber of type `c`, never the
    /// numbers 0 or 1 (which bridge to `Bool` too); `nil` for anything else.
    public static func bool(_ value: Any) -> Bool? {
        guard let number = value as? NSNumber, String(cString: number.objCType) == "c" else { return nil }
        return number.boolValue
    }
}

