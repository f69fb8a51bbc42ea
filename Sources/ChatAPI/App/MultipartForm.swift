import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Retrieval
import ServiceLifecycle
import Storage

/// A minimal multipart/form-data reader: the fields by name, their bytes as sent.
package enum MultipartForm {
    package static func boundary(_ contentType: String) -> String? {
        guard let range = contentType.range(of: "boundary=") else { return nil }
        let value = contentType[range.upperBound...].prefix { $0 != ";" }.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        return value.isEmpty ? nil : value
    }

    package static func parts(_ body: [UInt8], boundary: String) -> [String: [UInt8]] {
        let delimiter = Array(("--" + boundary).utf8)
        var result: [String: [UInt8]] = [:]
        var starts: [Int] = []
        var index = 0
        while index + delimiter.count <= body.count {
            if body[index] == delimiter[0], Array(body[index..<index + delimiter.count]) == delimiter {
                starts.append(index)
                index += delimiter.count
            } else {
                index += 1
            }
        }
        for (position, start) in starts.enumerated() where position + 1 < starts.count {
            var part = Array(body[(start + delimiter.count)..<starts[position + 1]])
            if part.starts(with: [13, 10]) { part.removeFirst(2) }
            if part.suffix(2) == [13, 10] { part.removeLast(2) }
            guard let split = (0..<max(0, part.count - 3)).first(where: { part[$0] == 13 && part[$0 + 1] == 10 && part[$0 + 2] == 13 && part[$0 + 3] == 10 }) else {
                continue
            }
            let headers = String(decoding: part[..<split], as: UTF8.self)
            guard let nameRange = headers.range(of: "name=\"") else { continue }
            let name = String(headers[nameRange.upperBound...].prefix { $0 != "\"" })
            result[name] = Array(part[(split + 4)...])
        }
        return result
    }
}
