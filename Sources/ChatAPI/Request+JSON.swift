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
        do {
            return try context.requestDecoder.decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw APIError.badRequest("the JSON body does not match: \(ErrorMiddleware<AppRequestContext>.describe(error))", field: Self.field(error))
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
