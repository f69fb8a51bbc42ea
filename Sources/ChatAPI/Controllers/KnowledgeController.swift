import Foundation
import HTTPTypes
import Hummingbird
import Retrieval
import Storage

/// `/api/knowledge`: search and browse what the caller may see; editors and admins write what they may see.
///
/// A document the caller may not see is, for every route, exactly a document that does not exist (404), with one
/// exception that cannot be avoided: `POST` with the `source` and `external_id` of such a document answers 409,
/// since that identity is taken. Writes that omit `access` keep the stored list; a change of the list is
/// audited (`knowledge.access_changed`, or `knowledge.access_widened` when someone new may see the document).
/// Bodies above the inline limit are written by a background job (202, progress at `/api/knowledge/import/{job}`).
package struct KnowledgeController {
    let bank: KnowledgeBank
    let analytics: AnalyticsRecorder
    let audit: AuditTrail
    let sealer: DataSealer
    let jobs: KnowledgeJobs
    /// Bodies up to this many UTF-8 bytes are written while the request waits; larger ones go to a job.
    let inlineBytes: Int
    /// The relevance floor of a search (the chat's threshold): below it, and without a word in common, a hit is left out.
    let floor: Double

    package struct DocumentBody: JSONRequestBody {
        var title: String
        var body: String
        var kind: DocumentKind?
        var source: String?
        var externalId: String?
        var metadata: [String: String]?
        var tags: [String]?
        var access: [String]?
        package enum CodingKeys: String, CodingKey, CaseIterable { case title, body, kind, source, externalId, metadata, tags, access }
    }

    struct JobAccepted: ResponseEncodable {
        var job: String
        var status: String
        var message: String
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

        /// The JSON `StoredJSON.encode` writes for this value, byte for byte, written directly (the generic encoder was
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
        let query = request.uri.formParameters
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
            let floorName = query.get("floor") ?? "on"
            guard ["on", "off"].contains(floorName) else { throw APIError.badRequest("floor must be on or off", field: "floor") }
            var hits = try await bank.search(KnowledgeQuery(q, k: k, mode: mode), rights: caller.rights)
            if floorName == "on" { hits = KnowledgeHit.aboveFloor(hits, cosine: floor) }
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
        let page = try await bank.documents(after: query.get("after"), limit: limit, source: query.get("source"), rights: caller.rights)
        return try ListResponse(documents: page.documents.map { DocumentView($0, withBody: false) }, next: page.next).response(
            from: request, context: context)
    }

    func show(request: Request, context: AppRequestContext) async throws -> DocumentView {
        let caller = try context.caller()
        let id = try context.parameters.require("id")
        guard let record = try await bank.document(id: id, rights: caller.rights) else {
            throw Self.notFound(id)
        }
        return DocumentView(record, withBody: true)
    }

    /// 201 for a new entry; 200 when `source` and `external_id` name an existing one the caller may see, which is
    /// updated; 409 when they name one the caller may not see; 202 with a job for a body above the inline limit.
    func create(request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.caller(in: [.editor, .admin])
        var request = request
        let body = try await request.readJSON(as: DocumentBody.self, context: context, limit: jsonLimit)
        var input = try Self.input(body, id: nil)
        if body.externalId == nil { input.id = UUID().uuidString.lowercased() }
        if let accepted = try await backgroundIfLarge(input, caller: caller, context: context) {
            return try accepted.response(from: request, context: context)
        }
        let response = try await write(input, caller: caller, request: request, context: context)
        return try EditedResponse(status: response.change == "created" ? .created : .ok, response: response).response(from: request, context: context)
    }

    func update(request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.caller(in: [.editor, .admin])
        let id = try context.parameters.require("id")
        guard try await bank.document(id: id, rights: caller.rights) != nil else { throw Self.notFound(id) }
        var request = request
        let body = try await request.readJSON(as: DocumentBody.self, context: context, limit: jsonLimit)
        let input = try Self.input(body, id: id)
        if let accepted = try await backgroundIfLarge(input, caller: caller, context: context) {
            return try accepted.response(from: request, context: context)
        }
        return try await write(input, caller: caller, request: request, context: context).response(from: request, context: context)
    }

    func delete(request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.caller(in: [.editor, .admin])
        let id = try context.parameters.require("id")
        // The title goes into the audit entry: after the delete, nothing else remembers what the entry was.
        guard let document = try await bank.document(id: id, rights: caller.rights), try await bank.delete(ids: [id], rights: caller.rights) == [id] else {
            throw Self.notFound(id)
        }
        await record(change: "deleted", id: id, title: document.title, caller: caller, context: context)
        return Response(status: .noContent)
    }

    /// The same answer for an entry that does not exist and one the caller may not see.
    static func notFound(_ id: String) -> APIError { APIError.notFound("no knowledge entry \(id) that you may see") }

    /// JSON bodies may be this large: the text limit, room for JSON escapes, and the other fields.
    private var jsonLimit: Int { bank.configuration.maximumDocumentBytes * 2 + (1 << 20) }

    /// A body above the inline limit goes to a job (after the checks a write makes at once); `nil` for a small one.
    private func backgroundIfLarge(_ input: DocumentInput, caller: AuthenticatedUser, context: AppRequestContext) async throws
        -> EditedResponse<JobAccepted>?
    {
        if let problem = bank.check(input) { throw ErrorMiddleware<AppRequestContext>.map(problem) }
        guard input.body.utf8.count > inlineBytes else { return nil }
        let manifest = KnowledgeJobs.Manifest(
            kind: .document, createdBy: caller.user.id,
            document: .init(
                id: input.id, source: input.source, externalId: input.externalID, title: input.title, body: input.body, kind: input.kind.rawValue,
                metadata: input.metadata, access: input.access?.principals))
        let job = try await jobs.submit(manifest, source: input.source, format: "document")
        await audit.record("knowledge.job", actor: caller.user.id, target: "job:\(job.id)", context: context, detail: ["title": input.title])
        var headers = HTTPFields()
        headers[.location] = "/api/knowledge/import/\(job.id)"
        return EditedResponse(
            status: .accepted, headers: headers,
            response: JobAccepted(
                job: job.id, status: job.status,
                message: "the document has \(input.body.utf8.count) bytes, more than the \(inlineBytes) written at once: it is written in the background; "
                    + "GET /api/knowledge/import/\(job.id) shows the progress"))
    }

    /// Bodies above this are written watching the connection: a client that leaves cancels the write.
    static let watchedBytes = 16 << 10

    private func write(_ input: DocumentInput, caller: AuthenticatedUser, request: Request, context: AppRequestContext) async throws -> WriteResponse {
        let bank = bank
        let rights = caller.rights
        let outcome =
            input.body.utf8.count > Self.watchedBytes
            ? try await request.cancellingWhenClientLeaves { try await bank.upsert([input], rights: rights)[0] }
            : try await bank.upsert([input], rights: rights)[0]
        if outcome.change == .refused {
            if input.id != nil && input.externalID == nil { throw Self.notFound(input.id!) }
            throw APIError(
                .conflict, code: "external_id_taken",
                "source '\(input.source)' with external_id '\(input.externalID ?? "")' names a document you may not change; choose another external_id",
                field: "external_id")
        }
        guard let record = try await bank.document(id: outcome.documentID, rights: .everything) else { throw Self.notFound(outcome.documentID) }
        if outcome.change != .unchanged {
            await self.record(change: outcome.change.rawValue, id: record.id, title: record.title, caller: caller, context: context)
        }
        if let before = outcome.previousAccess, let after = outcome.access, before != after {
            struct AccessChange: Encodable, Sendable {
                var before: [String]
                var after: [String]
                var title: String
            }
            await audit.record(
                outcome.widensAccess ? "knowledge.access_widened" : "knowledge.access_changed", actor: caller.user.id, target: "document:\(record.id)",
                context: context, detail: AccessChange(before: before.principals, after: after.principals, title: record.title))
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
            metadata: metadata, access: body.access.map { AccessList(principals: $0) })
    }
}
