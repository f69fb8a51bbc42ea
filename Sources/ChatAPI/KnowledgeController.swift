import Foundation
import Hummingbird
import Retrieval
import Storage

/// `/api/knowledge`: search and browse what the caller may see; editors and admins write.
struct KnowledgeController {
    let bank: KnowledgeBank
    let analytics: AnalyticsRecorder
    let audit: AuditTrail
    let sealer: DataSealer

    struct DocumentBody: Decodable {
        var title: String
        var body: String
        var kind: DocumentKind?
        var source: String?
        var externalId: String?
        var metadata: [String: String]?
        var tags: [String]?
        var access: [String]?
    }

    struct DocumentView: ResponseEncodable {
        var id: String
        var source: String
        var externalId: String?
        var title: String
        var kind: String
        var tags: [String]
        var metadata: [String: String]
        var access: [String]
        var body: String?
        var createdAt: Date
        var updatedAt: Date

        init(_ record: DocumentRecord, withBody: Bool) {
            id = record.id
            source = record.source
            externalId = record.externalID
            title = record.title
            kind = record.kind.rawValue
            tags = record.metadata["tags"].map { $0.split(separator: ",").map(String.init) } ?? []
            var metadata = record.metadata
            metadata["tags"] = nil
            self.metadata = metadata
            access = record.access.principals
            body = withBody ? record.body : nil
            createdAt = record.createdAt
            updatedAt = record.updatedAt
        }
    }

    struct HitView: Encodable {
        var documentId: String
        var title: String
        var source: String
        var passage: String
        var start: Int
        var end: Int
        var score: Double
        var denseRank: Int?
        var bm25Rank: Int?
    }

    struct SearchResponse: ResponseEncodable {
        var query: String
        var mode: String
        var hits: [HitView]

        /// The JSON `responseEncoder` writes for this value, byte for byte (snake-case keys in sorted order, absent
        /// ranks left out, slashes unescaped), written directly: search is the hottest route, and the generic encoder
        /// was 7% of the server's time under load (docs/reliability.md "Load"). `KnowledgeSearchJSONTests` holds
        /// the two outputs equal.
        func json() -> [UInt8] {
            var out = HandWrittenJSON()
            out.reserve(256 + hits.reduce(0) { $0 + $1.passage.utf8.count + $1.title.utf8.count + 160 })
            out.raw("{\"hits\":[")
            for (index, hit) in hits.enumerated() {
                if index > 0 { out.raw(",") }
                out.raw("{")
                if let rank = hit.bm25Rank { out.raw("\"bm25_rank\":"); out.integer(rank); out.raw(",") }
                if let rank = hit.denseRank { out.raw("\"dense_rank\":"); out.integer(rank); out.raw(",") }
                out.raw("\"document_id\":"); out.string(hit.documentId)
                out.raw(",\"end\":"); out.integer(hit.end)
                out.raw(",\"passage\":"); out.string(hit.passage)
                out.raw(",\"score\":"); out.number(hit.score)
                out.raw(",\"source\":"); out.string(hit.source)
                out.raw(",\"start\":"); out.integer(hit.start)
                out.raw(",\"title\":"); out.string(hit.title)
                out.raw("}")
            }
            out.raw("],\"mode\":"); out.string(mode)
            out.raw(",\"query\":"); out.string(query)
            out.raw("}")
            return out.bytes
        }
    }

    /// What the analytics keep of a search.
    struct SearchEvent: Encodable, Sendable {
        var latencyMs: Double
        var hits: Int
        var queryKey: String
        var querySealed: String?

        /// The JSON `JSONText.encode` writes for this value, byte for byte, written directly (the generic encoder was
        /// 1.6% of a search request's CPU); `KnowledgeSearchJSONTests` holds the two equal.
        func json() -> [UInt8] {
            var out = HandWrittenJSON()
            out.raw("{\"hits\":"); out.integer(hits)
            out.raw(",\"latency_ms\":"); out.number(latencyMs)
            out.raw(",\"query_key\":"); out.string(queryKey)
            if let querySealed { out.raw(",\"query_sealed\":"); out.string(querySealed) }
            out.raw("}")
            return out.bytes
        }
    }

    struct ListResponse: ResponseEncodable {
        var documents: [DocumentView]
        /// Pass as `after` for the next page; absent on the last page.
        var next: String?
    }

    struct WriteResponse: ResponseEncodable {
        var document: DocumentView
        var change: String
        var passages: Int
        var embedded: Int
    }

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get(use: list)
        routes.post(use: create)
        routes.get(":id", use: show)
        routes.put(":id", use: update)
        routes.delete(":id", use: delete)
        return routes
    }

    func list(request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.caller()
        let query = request.uri.queryParameters
        if let q = query.get("q") {
            guard !q.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, q.utf8.count <= 10_000 else {
                throw APIError.badRequest("q must be a non-empty query of at most 10,000 bytes", field: "q")
            }
            let k = try QueryParameter.integer(query, "k", default: 10, range: 1...100)
            let modeName = query.get("mode") ?? "hybrid"
            guard let mode = RetrievalMode(rawValue: modeName) else {
                throw APIError.badRequest("mode must be dense, bm25 or hybrid", field: "mode")
            }
            let started = ContinuousClock.now
            let hits = try await bank.search(KnowledgeQuery(q, k: k, mode: mode), rights: caller.rights)
            let copy = sealer.analyticsCopy(q)
            let event = SearchEvent(latencyMs: (ContinuousClock.now - started).inSeconds * 1000, hits: hits.count, queryKey: copy.key, querySealed: copy.sealed)
            await analytics.record("knowledge.search", user: caller.user.id, json: String(decoding: event.json(), as: UTF8.self))
            let view = SearchResponse(
                query: q, mode: mode.rawValue,
                hits: hits.map {
                    HitView(
                        documentId: $0.documentID, title: $0.title, source: $0.source, passage: $0.passage, start: $0.start, end: $0.end, score: $0.score,
                        denseRank: $0.denseRank, bm25Rank: $0.bm25Rank)
                })
            let body = view.json()
            return Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8", .contentLength: String(body.count)],
                body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        let limit = try QueryParameter.integer(query, "limit", default: 50, range: 1...200)
        let source = query.get("source")
        var cursor = query.get("after")
        var documents: [DocumentView] = []
        // Pages of the store, keeping what the caller may see, until the page is full or the store ends.
        while documents.count < limit {
            let page = try await bank.store.documents(after: cursor, limit: limit, source: source)
            guard let last = page.last else {
                cursor = nil
                break
            }
            for record in page where caller.rights.canSee(record.access) && documents.count < limit {
                documents.append(DocumentView(record, withBody: false))
                cursor = record.id
            }
            if documents.count < limit { cursor = last.id }
            if page.count < limit {
                if documents.count < limit { cursor = nil }
                break
            }
        }
        return try ListResponse(documents: documents, next: cursor).response(from: request, context: context)
    }

    func show(request: Request, context: AppRequestContext) async throws -> DocumentView {
        let caller = try context.caller()
        let id = try context.parameters.require("id")
        guard let record = try await bank.document(id: id, rights: caller.rights) else {
            throw APIError.notFound("no knowledge entry \(id) that you may see")
        }
        return DocumentView(record, withBody: true)
    }

    /// 201 for a new entry; 200 when `source` and `external_id` name an existing one, which is updated.
    func create(request: Request, context: AppRequestContext) async throws -> EditedResponse<WriteResponse> {
        let caller = try context.caller(in: [.editor, .admin])
        let body = try await request.decodeJSON(as: DocumentBody.self, context: context)
        var input = try Self.input(body, id: nil)
        if body.externalId == nil { input.id = UUID().uuidString.lowercased() }
        let response = try await write(input, caller: caller, context: context)
        return EditedResponse(status: response.change == "created" ? .created : .ok, response: response)
    }

    func update(request: Request, context: AppRequestContext) async throws -> WriteResponse {
        let caller = try context.caller(in: [.editor, .admin])
        let id = try context.parameters.require("id")
        guard try await bank.document(id: id, rights: .everything) != nil else { throw APIError.notFound("no knowledge entry \(id)") }
        let body = try await request.decodeJSON(as: DocumentBody.self, context: context)
        return try await write(try Self.input(body, id: id), caller: caller, context: context)
    }

    func delete(request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.caller(in: [.editor, .admin])
        let id = try context.parameters.require("id")
        guard try await bank.delete(ids: [id]) == [id] else { throw APIError.notFound("no knowledge entry \(id)") }
        await record(change: "deleted", id: id, title: nil, caller: caller, context: context)
        return Response(status: .noContent)
    }

    private func write(_ input: DocumentInput, caller: AuthenticatedUser, context: AppRequestContext) async throws -> WriteResponse {
        let outcome = try await bank.upsert([input])[0]
        guard let record = try await bank.store.document(id: outcome.documentID) else { throw APIError.notFound("the entry vanished") }
        if outcome.change != .unchanged {
            await self.record(change: outcome.change.rawValue, id: record.id, title: record.title, caller: caller, context: context)
        }
        return WriteResponse(
            document: DocumentView(record, withBody: true), change: outcome.change.rawValue, passages: outcome.chunks, embedded: outcome.embedded)
    }

    /// Knowledge changes go to the audit log (who changed what) and the analytics.
    private func record(change: String, id: String, title: String?, caller: AuthenticatedUser, context: AppRequestContext) async {
        struct Change: Encodable, Sendable {
            var change: String
            var title: String?
        }
        await audit.record("knowledge.\(change)", actor: caller.user.id, target: "document:\(id)", context: context, detail: Change(change: change, title: title))
        await analytics.record("knowledge.change", user: caller.user.id, data: ["change": change])
    }

    static func input(_ body: DocumentBody, id: String?) throws -> DocumentInput {
        var metadata = body.metadata ?? [:]
        guard metadata.count <= 50, metadata.allSatisfy({ $0.key.utf8.count <= 100 && $0.value.utf8.count <= 2_000 }) else {
            throw APIError.badRequest("metadata holds at most 50 entries, keys up to 100 bytes and values up to 2,000", field: "metadata")
        }
        if let tags = body.tags {
            let cleaned = tags.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard cleaned.count <= 30, cleaned.allSatisfy({ $0.count <= 50 && !$0.contains(",") }) else {
                throw APIError.badRequest("up to 30 tags of at most 50 characters, without commas", field: "tags")
            }
            metadata["tags"] = cleaned.joined(separator: ",")
        }
        return DocumentInput(
            id: id, source: body.source ?? "manual", externalID: body.externalId, title: body.title, body: body.body, kind: body.kind ?? .text,
            metadata: metadata, access: AccessList(principals: body.access ?? []))
    }
}
