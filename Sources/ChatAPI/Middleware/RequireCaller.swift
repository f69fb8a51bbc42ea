import Hummingbird

/// 401 unless the authenticator found a caller.
struct RequireCaller: RouterMiddleware {
    typealias Context = AppRequestContext
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard context.identity != nil else { throw APIError.unauthorized }
        return try await next(request, context)
    }
}
