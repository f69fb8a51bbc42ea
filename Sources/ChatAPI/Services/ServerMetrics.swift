import Accounts
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Metrics
import NIOCore
public import Prometheus
import Retrieval
import Settings
import Synchronization

/// The process-wide registry behind swift-metrics (store query and embedder timings recorded in `Storage` and
/// `Retrieval`), bootstrapped once by `omnifin serve`; `/metrics` shows it beside the server's own.
public enum ProcessMetrics {
    private static let bootstrapped = Mutex<PrometheusCollectorRegistry?>(nil)

    /// Routes swift-metrics to a Prometheus registry (once per process; later calls return the same registry).
    @discardableResult
    public static func bootstrap() -> PrometheusCollectorRegistry {
        bootstrapped.withLock { registry in
            if let registry { return registry }
            let created = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: created)
            factory.defaultDurationHistogramBuckets = ServerMetrics.buckets
            MetricsSystem.bootstrap(factory)
            registry = created
            return created
        }
    }

    static var registry: PrometheusCollectorRegistry? { bootstrapped.withLock { $0 } }
}

/// The server's Prometheus metrics, in a registry of its own (no process-wide bootstrap, so several servers
/// in one process, as in the tests, keep their counts apart).
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    static let buckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    func recordRequest(route: String, method: String, status: Int, duration: Duration) {
        registry.makeCounter(
            descriptor: .init(namespace: "omnifin", metricName: "http_requests", unitName: "total", helpText: "HTTP requests by route, method and status"),
            labels: [("route", route), ("method", method), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: .init(namespace: "omnifin", metricName: "http_request_duration", unitName: "seconds", helpText: "HTTP request duration"),
            labels: [("route", route), ("method", method)], buckets: Self.buckets
        ).record(duration)
    }

    /// The text exposition, with the knowledge bank's sizes read now.
    func exposition(bank: KnowledgeBank, snapshots: SnapshotHealth) -> String {
        func gauge(_ name: String, _ help: String, _ value: Double) {
            registry.makeGauge(descriptor: .init(namespace: "omnifin", metricName: name, unitName: "", helpText: help)).set(to: value)
        }
        gauge("knowledge_documents", "documents in the knowledge bank", Double(bank.documentCount))
        gauge("knowledge_passages", "passages in the BM25 index", Double(bank.passageCount))
        gauge("index_vectors", "vectors in the HNSW index", Double(bank.vectorCount))
        gauge("store_generation", "the store generation the indexes reflect", Double(bank.generation))
        let snapshot = snapshots.status
        gauge("snapshot_failing", "1 while the index snapshot cannot be written (the server serves from memory)", snapshot.status == "failing" ? 1 : 0)
        gauge("snapshot_failures", "failed index snapshot writes since the server started", Double(snapshot.failures))
        gauge("snapshot_generation", "the store generation of the last index snapshot written", Double(snapshot.generation ?? 0))
        return registry.emitToString() + (ProcessMetrics.registry?.emitToString() ?? "")
    }
}

extension ServerMetrics {
    /// `GET /metrics`: with `token` (`OMNIFIN_METRICS_TOKEN`) only for `Authorization: Bearer TOKEN`, without one only
    /// for clients on this machine (a Prometheus on the same host, or behind the same trusted proxy as a local one).
    func addRoute(to router: Router<AppRequestContext>, bank: KnowledgeBank, snapshots: SnapshotHealth, token: String?) {
        router.get("metrics") { request, context in
            if let token {
                guard let sent = request.headers.bearer?.token, CSRFMiddleware.constantTimeEqual(Secrets.hash(sent), Secrets.hash(token)) else {
                    throw APIError(.unauthorized, code: "unauthorized", "/metrics needs Authorization: Bearer with OMNIFIN_METRICS_TOKEN")
                }
            } else if !ClientAddress.isTrusted(context.clientAddress, IPNetwork.loopback) {
                throw APIError(
                    .forbidden, code: "metrics_local_only",
                    "/metrics answers only this machine; set OMNIFIN_METRICS_TOKEN to scrape it from elsewhere with Authorization: Bearer")
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: self.exposition(bank: bank, snapshots: snapshots))))
        }
    }
}
