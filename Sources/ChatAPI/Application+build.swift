import Foundation
public import Hummingbird
import HummingbirdAuth
public import Logging
import NIOPosix
public import Retrieval
import ServiceLifecycle
public import Storage

/// Saves the index snapshot when the server shuts down gracefully, so the next start loads instead of rebuilding.
struct SnapshotOnShutdown: Service {
    let bank: KnowledgeBank
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        do {
            if let path = try await bank.saveSnapshot() { logger.info("saved the index snapshot to \(path) at generation \(bank.generation)") }
        } catch {
            logger.error("saving the index snapshot failed: \(error)")
        }
    }
}

/// The routes of the API over a store and a knowledge bank.
public func buildRouter(store: any OmnifinStore, bank: KnowledgeBank, configuration: ServerConfiguration, decoyHash: String)
    -> Router<AppRequestContext>
{
    let router = Router(context: AppRequestContext.self)
    let metrics = ServerMetrics()
    router.add(middleware: SecurityHeadersMiddleware(hsts: false))
    router.add(middleware: MetricsMiddleware(metrics: metrics))
    router.add(middleware: ErrorMiddleware())
    HealthController(bank: bank).addRoutes(to: router)
    metrics.addRoute(to: router, bank: bank)

    let limiter = RateLimiter()
    let auth = AuthController(
        accounts: store, mail: MailDrop(directory: configuration.mailDirectory), configuration: configuration, decoyHash: decoyHash,
        limiter: limiter)
    router.addRoutes(auth.publicEndpoints, atPath: "api/auth")

    // Everything below needs a valid session token.
    let protected = router.group("api").add(middleware: TokenAuthenticator(accounts: store)).add(middleware: RequireCaller())
        .add(middleware: RateLimitMiddleware(limiter: limiter, perMinute: configuration.rateLimitPerMinute))
    protected.addRoutes(auth.endpoints, atPath: "auth")
    protected.addRoutes(KnowledgeController(bank: bank).endpoints, atPath: "knowledge")
    return router
}

/// 401 unless the authenticator found a caller.
struct RequireCaller: RouterMiddleware {
    typealias Context = AppRequestContext
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard context.identity != nil else { throw APIError.unauthorized }
        return try await next(request, context)
    }
}

/// 429 with `Retry-After` once a user exceeds their requests per minute.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let limiter: RateLimiter
    let perMinute: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let user = context.identity?.user.id, let wait = limiter.take("user:" + user, limitPerMinute: perMinute) {
            throw APIError.rateLimited(retryAfter: wait)
        }
        return try await next(request, context)
    }
}

/// The server over an open store and knowledge bank (what the tests build).
public func buildApplication(store: any OmnifinStore, bank: KnowledgeBank, configuration: ServerConfiguration, logger: Logger) async throws
    -> some ApplicationProtocol
{
    let cost = configuration.bcryptCost
    let decoy = try await PasswordHashing.hash(UUID().uuidString, cost: cost)
    let router = buildRouter(store: store, bank: bank, configuration: configuration, decoyHash: decoy)
    var app = Application(
        router: router, configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Omnifin"),
        logger: logger)
    app.addServices(SnapshotOnShutdown(bank: bank, logger: logger))
    return app
}
