import Hummingbird

/// 429 with `Retry-After` once a client address exceeds its requests per minute on the public routes.
struct AddressRateLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let limiter: any RateLimiting
    let perMinute: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let wait = await limiter.take("ip:" + context.clientAddress, limitPerMinute: perMinute) { throw APIError.rateLimited(retryAfter: wait) }
        return try await next(request, context)
    }
}
