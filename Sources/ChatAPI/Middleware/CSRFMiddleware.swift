import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Storage
import Synchronization

/// Cookie sessions must echo their CSRF token in `X-CSRF-Token` on every unsafe method; bearer tokens cannot be
/// sent by another site, so they need none.
struct CSRFMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let sealer: DataSealer
    static let header = HTTPField.Name(SessionCookie.csrfHeader)!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let caller = context.identity, caller.viaCookie, ![.get, .head, .options].contains(request.method) {
            let expected = SessionCookie.csrfToken(for: caller.tokenHash, sealer: sealer)
            guard let sent = request.headers[Self.header], Self.constantTimeEqual(sent, expected) else {
                throw APIError(
                    .forbidden, code: "csrf_failed",
                    "this cookie session needs its CSRF token in the X-CSRF-Token header (GET /api/auth/session gives it)")
            }
        }
        return try await next(request, context)
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
