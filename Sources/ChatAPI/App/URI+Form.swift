import Foundation
import Hummingbird
import HummingbirdCore

extension URI {
    /// The query read as `application/x-www-form-urlencoded`, as browsers and HTML forms write it: `+` is a space,
    /// then keys and values are percent-decoded (`q=Ada+Admin` and `q=Ada%20Admin` both mean "Ada Admin").
    var formParameters: Parameters {
        guard let query, !query.isEmpty else { return Parameters() }
        let pairs = query.split(separator: "&").map { part -> (key: Substring, value: Substring) in
            guard let equals = part.firstIndex(of: "=") else { return (Self.formDecode(part)[...], "") }
            return (Self.formDecode(part[..<equals])[...], Self.formDecode(part[part.index(after: equals)...])[...])
        }
        return Parameters(pairs)
    }

    static func formDecode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
