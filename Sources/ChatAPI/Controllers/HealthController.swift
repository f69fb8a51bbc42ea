import Foundation
import Chat
import Hummingbird
import Logging
import NIOCore
import Retrieval
import Storage

/// `/healthz` (the process answers) and `/readyz` (the store answers and the index is loaded).
struct HealthController {
    let bank: KnowledgeBank
    let redis: RedisHealth?
    let snapshots: SnapshotHealth
    /// The local llama.cpp engine, when Omnifin runs one; whether answers fall back to the built-in answerer.
    var engine: LlamaEngine? = nil
    var fallback = false

    /// The local engine's state (`ready`, `starting`, `restarting`) and restarts so far.
    struct EngineStatus: Encodable {
        var status: String
        var restarts: Int
    }

    /// Public, so without the address or the error text (both are in the log).
    struct RedisStatus: Encodable {
        var status: String
    }

    struct Readiness: ResponseEncodable {
        var status: String
        var documents: Int
        var passages: Int
        var vectors: Int
        var generation: Int64
        var embeddingModel: String
        var modelMismatch: String?
        /// With `OMNIFIN_REDIS_URL`: `up`, or `down` while this replica falls back to its own memory (still ready).
        var redis: RedisStatus?
        /// The index snapshots: a failing one does not make the server unready (it serves from memory).
        var snapshot: SnapshotHealth.Status
        /// The local LLM engine: when it is not ready the server is not either (503), unless answers fall back to the
        /// built-in answerer (`OMNIFIN_LLM_FALLBACK=builtin`).
        var llm: EngineStatus?
    }

    /// The OpenAPI document shipped with the server (`Sources/ChatAPI/Resources/openapi.json`).
    static let openAPIDocument: ByteBuffer? = Bundle.module.url(forResource: "openapi", withExtension: "json")
        .flatMap { try? Data(contentsOf: $0) }.map { ByteBuffer(bytes: $0) }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("api/openapi.json") { _, _ -> Response in
            guard let document = Self.openAPIDocument else {
                throw APIError(.internalServerError, code: "internal", "the OpenAPI document is missing from this build")
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: document))
        }
        router.get("healthz") { _, _ in ["status": "ok"] }
        router.get("readyz") { request, context in
            do {
                try await bank.checkStore()
            } catch {
                context.logger.error("readiness: the database does not answer: \(error)")
                throw APIError(.serviceUnavailable, code: "store_unavailable", "the database does not answer")
            }
            let engineStatus = engine.map { EngineStatus(status: $0.status.state.rawValue, restarts: $0.status.restarts) }
            if let engine, engine.status.state != .ready, !fallback {
                throw APIError(
                    .serviceUnavailable, code: "llm_unavailable",
                    "the local LLM engine is \(engine.status.state.rawValue) (restarts so far: \(engine.status.restarts))")
            }
            return Readiness(
                status: "ready", documents: bank.documentCount, passages: bank.passageCount, vectors: bank.vectorCount, generation: bank.generation,
                embeddingModel: bank.embedder.modelName, modelMismatch: bank.modelMismatch,
                redis: redis.map { RedisStatus(status: $0.isUp ? "up" : "down") },
                snapshot: snapshots.status, llm: engineStatus)
        }
    }
}
