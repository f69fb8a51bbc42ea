package import Foundation
import Hummingbird
import NIOCore

/// A JSON request body whose fields are all known: a field the route does not read is a 400 naming it, never
/// silently ignored (a misspelt `acess` would otherwise leave a document open to everyone). Each body lists its
/// fields as `enum CodingKeys: String, CodingKey, CaseIterable`.
package protocol JSONRequestBody: Decodable {
    associatedtype CodingKeys: CodingKey & CaseIterable
}

extension Request {
    /// Decodes the JSON body, answering 400 with the field at fault (an unknown field too), 413 when it is larger than
    /// `limit` (default: the context's upload limit), 415 for another content type.
    func decodeJSON<T: JSONRequestBody>(as type: T.Type, context: AppRequestContext, limit: Int? = nil) async throws -> T {
        var request = self
        return try await request.readJSON(as: type, context: context, limit: limit)
    }

    /// ``decodeJSON(as:context:limit:)`` that keeps the collected body in this request (so that
    /// ``cancellingWhenClientLeaves(_:)`` can still watch the connection afterwards).
    mutating func readJSON<T: JSONRequestBody>(as type: T.Type, context: AppRequestContext, limit: Int? = nil) async throws -> T {
        if let contentType = headers[.contentType], !contentType.lowercased().hasPrefix("application/json") {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type", "send the body as application/json")
        }
        let buffer: ByteBuffer
        let limit = limit ?? context.maxUploadSize
        do {
            buffer = try await collectBody(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, code: "body_too_large", "the body is larger than \(ByteCountText.describe(limit)), the limit of this route")
        }
        return try Self.decodeJSONBody(Data(buffer.readableBytesView), as: T.self, decoder: context.requestDecoder)
    }

    /// Decodes a JSON body the way every route does: a mismatch is a 400 naming the field at fault, and so is a field
    /// the body type does not have.
    package static func decodeJSONBody<T: JSONRequestBody>(_ body: Data, as type: T.Type, decoder: JSONDecoder) throws(APIError) -> T {
        let value: T
        do {
            value = try decoder.decode(T.self, from: body)
        } catch let error as DecodingError {
            throw APIError.badRequest("the JSON body does not match: \(ErrorMiddleware<AppRequestContext>.describe(error))", field: Self.field(error))
        } catch {
            throw APIError.badRequest("the JSON body cannot be read: \(error)")
        }
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] {
            let known = Set(T.CodingKeys.allCases.map(\.stringValue))
            // The decoder reads snake_case keys as camelCase: a key is known when the decoder would read it.
            if let unknown = object.keys.sorted().first(where: { !known.contains(Self.camelCase($0)) }) {
                let fields = T.CodingKeys.allCases.map { ErrorMiddleware<AppRequestContext>.snakeCase($0.stringValue) }.sorted()
                throw APIError.badRequest("unknown field '\(unknown)'; this route reads \(fields.joined(separator: ", "))", field: unknown)
            }
        }
        return value
    }

    /// `display_name` → `displayName`, as `JSONDecoder.KeyDecodingStrategy.convertFromSnakeCase` converts keys.
    static func camelCase(_ key: String) -> String {
        guard let first = key.firstIndex(where: { $0 != "_" }) else { return key }
        let last = key.lastIndex(where: { $0 != "_" })!
        let words = key[first...last].split(separator: "_")
        guard words.count > 1 else { return key }
        let joined = words[0].lowercased() + words.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst().lowercased() }.joined()
        return String(key[..<first]) + joined + String(key[key.index(after: last)...])
    }

    private static func field(_ error: DecodingError) -> String? {
        let snake = ErrorMiddleware<AppRequestContext>.snakeCase
        switch error {
        case .keyNotFound(let key, let context):
            return (context.codingPath.map { snake($0.stringValue) } + [snake(key.stringValue)]).joined(separator: ".")
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map { $0.intValue.map(String.init) ?? snake($0.stringValue) }.joined(separator: ".")
            return path.isEmpty ? nil : path
        @unknown default:
            return nil
        }
    }
}

extension Request {
    /// Runs `operation` and cancels it when the client closes the connection before the answer arrives, so the work
    /// of a request nobody waits for stops (a knowledge write's embedding stops between batches and writes nothing).
    /// Call it after the body was read (``readJSON(as:context:limit:)``); the connection closes after the answer, so
    /// it is for slow work only.
    func cancellingWhenClientLeaves<Value: Sendable>(_ operation: () async throws -> Value) async throws -> Value {
        try await body.consumeWithCancellationOnInboundClose { _ in try await operation() }
    }
}
