import Hummingbird
import Retrieval
import Storage

/// `/healthz` (the process answers) and `/readyz` (the store answers and the index is loaded).
struct HealthController {
    let bank: KnowledgeBank

    struct Readiness: ResponseEncodable {
        var status: String
        var documents: Int
        var passages: Int
        var vectors: Int
        var generation: Int64
        var embeddingModel: String
        var modelMismatch: String?
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("healthz") { _, _ in ["status": "ok"] }
        router.get("readyz") { request, context in
            do {
                _ = try await bank.store.knowledgeGeneration()
            } catch {
                throw APIError(.serviceUnavailable, code: "store_unavailable", "the database does not answer: \(error)")
            }
            return Readiness(
                status: "ready", documents: bank.documentCount, passages: bank.passageCount, vectors: bank.vectorCount, generation: bank.generation,
                embeddingModel: bank.embedder.modelName, modelMismatch: bank.modelMismatch)
        }
    }
}
