import HTTPTypes
import Hummingbird

extension Response {
    /// A `text/event-stream` response (Server-Sent Events) written by `body`: never cached, and not buffered by a
    /// proxy in front (`X-Accel-Buffering: no`), so each event reaches the client as it is written.
    static func eventStream(_ body: @escaping @Sendable (inout any ResponseBodyWriter) async throws -> Void) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
        return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: nil, body))
    }
}
