import Hummingbird
import Storage

/// 429 with `Retry-After` once a user exceeds their requests per minute.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let limiter: any RateLimiting
    let perMinute: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let user = context.identity?.user.id, let wait = await limiter.take("user:" + user, limitPerMinute: perMinute) {
            throw APIError.rateLimited(retryAfter: wait)
        }
        return try await next(request, context)
    }
}
