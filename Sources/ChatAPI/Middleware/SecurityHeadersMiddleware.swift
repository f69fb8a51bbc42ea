import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Retrieval
import Storage

/// Scripts, styles and everything else from this origin only: no inline script or style, no `eval`, and with
/// Trusted Types required, a page that tried to assign a string to `innerHTML` (or any other HTML sink) would
/// throw instead of parsing it. The one policy, `omnifin`, only lets the page register its service worker.
/// Recorded answers play from `blob:` URLs; nothing may frame the pages.
let contentSecurityPolicy = [
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:", "media-src 'self' blob:",
    "connect-src 'self'", "font-src 'self'", "object-src 'none'", "worker-src 'self'", "manifest-src 'self'", "frame-ancestors 'none'",
    "base-uri 'none'", "form-action 'self'", "require-trusted-types-for 'script'", "trusted-types omnifin",
].joined(separator: "; ")
/// Security headers on every response.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    let hsts: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[HTTPField.Name("Content-Security-Policy")!] = contentSecurityPolicy
        response.headers[HTTPField.Name("Permissions-Policy")!] = "microphone=(self), camera=(), geolocation=(), payment=()"
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[.cacheControl] = response.headers[.cacheControl] ?? "no-store"
        if hsts { response.headers[HTTPField.Name("Strict-Transport-Security")!] = "max-age=31536000; includeSubDomains" }
        return response
    }
}
