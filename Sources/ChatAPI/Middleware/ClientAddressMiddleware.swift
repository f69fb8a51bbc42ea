import HTTPTypes
import Hummingbird
import Settings

/// Sets the request's client address (``ClientAddress``) before anything keys on it.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let trusted: [IPNetwork]
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let forwarded = HTTPField.Name("Forwarded")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !trusted.isEmpty else { return try await next(request, context) }
        var context = context
        context.clientAddress = ClientAddress.resolve(
            peer: context.peerAddress, forwarded: request.headers[values: Self.forwarded], forwardedFor: request.headers[values: Self.forwardedFor],
            trusted: trusted)
        return try await next(request, context)
    }
}
