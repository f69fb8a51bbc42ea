import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import NIOCore
import Metrics
import Prometheus
import Synchronization
import Retrieval

/// Counts and times every request by its route template (not its path, which would explode the label set).
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let method = request.method.rawValue
        do {
            let response = try await next(request, context)
            metrics.recordRequest(route: context.endpointPath ?? "unmatched", method: method, status: response.status.code, duration: .now - started)
            return response
        } catch let error as any HTTPResponseError {
            metrics.recordRequest(route: context.endpointPath ?? "unmatched", method: method, status: error.status.code, duration: .now - started)
            throw error
        } catch {
            metrics.recordRequest(route: context.endpointPath ?? "unmatched", method: method, status: 500, duration: .now - started)
            throw error
        }
    }
}
