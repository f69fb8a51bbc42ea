import Foundation
import Hummingbird
import NIOCore

extension Request {
    /// Decodes the JSON body, answering 400 with the field at fault, 413 when it is too large, 415 for
    /// another content type.
    func decodeJSON<T: Decodable>(as type: T.Type, context: AppRequestContext) async throws -> T {
        if let contentType = headers[.contentType], !contentType.lowercased().hasPrefix("application/json") {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type", "send the body as application/json")
        }
        var request = self
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: context.maxUploadSize)
        } catch {
            throw APIError(.contentTooLarge, code: "body_too_large", "the body is larger than \(context.maxUploadSize / 1_048_576) MB")
        }
        return try Self.decodeJSONBody(Data(buffer.readableBytesView), as: T.self, decoder: context.requestDecoder)
    }

    /// Decodes a JSON body the way every route does: a mismatch is a 400 naming the field at fault.
    static func decodeJSONBody<T: Decodable>(_ body: Data, as type: T.Type, decoder: JSONDecoder) throws(APIError) -> T {
        do {
            return try decoder.decode(T.self, from: body)
        } catch let error as DecodingError {
            throw APIError.badRequest("the JSON body does not match: \(ErrorMiddleware<AppRequestContext>.describe(error))", field: Self.field(error))
        } catch {
            throw APIError.badRequest("the JSON body cannot be read: \(error)")
        }
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
