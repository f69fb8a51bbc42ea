import Foundation
import Hummingbird
import Ingest
import Logging
import NIOCore
import Retrieval
import Storage

/// `POST /api/knowledge/import` (editors, admins): the export file as the body, read and written in the
/// background as a knowledge job under the caller's rights; `GET /api/knowledge/import/{job}` reports the progress,
/// skipped records and result of any knowledge job (an import, a large document) and `DELETE` cancels it. A job is
/// its creator's and the admins'; to anyone else it does not exist.
struct ImportController {
    let bank: KnowledgeBank
    let jobs: KnowledgeJobs
    let directory: String
    let audit: AuditTrail
    let logger: Logger

    struct Accepted: ResponseEncodable {
        var job: String
        var status: String
    }

    struct JobView: ResponseEncodable {
        var id: String
        var source: String
        var format: String
        var status: String
        var total: Int?
        var processed: Int
        var skipped: Int
        var errors: [IngestSummary.Problem]
        /// A document job's outcome: `document_id`, `change`, `passages`, `embedded`.
        var result: KnowledgeJobs.DocumentResult?
        /// An import's outcome (also of a dry run, and of a prune stopped at its limit): the counts, the prune's
        /// scope and limit, and the documents it deletes or would delete.
        var summary: IngestSummary?
        var createdAt: Date
        var updatedAt: Date
    }

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post(use: start)
        routes.get(":job", use: show)
        routes.delete(":job", use: cancel)
        return routes
    }

    func start(request: Request, context: AppRequestContext) async throws -> EditedResponse<Accepted> {
        let caller = try context.caller(in: [.editor, .admin])
        let query = request.uri.formParameters
        var options = IngestPipeline.Options()
        if let format = query.get("format"), !format.isEmpty, format != "auto" {
            guard let value = IngestFormat(rawValue: format) else {
                throw APIError.badRequest("format must be auto or one of \(IngestFormat.allCases.map(\.rawValue).joined(separator: ", "))", field: "format")
            }
            options.format = value
        }
        if let source = query.get("source"), !source.isEmpty {
            guard source.count <= 100 else { throw APIError.badRequest("source is at most 100 characters", field: "source") }
            options.source = source
        }
        if let type = query.get("type") {
            guard (1...100).contains(type.count), !type.contains(":") else {
                throw APIError.badRequest("type must be 1 to 100 characters without ':'", field: "type")
            }
            options.type = type
        }
        func flag(_ name: String) throws -> Bool {
            guard let value = query.get(name) else { return false }
            guard ["true", "false"].contains(value) else { throw APIError.badRequest("\(name) must be true or false", field: name) }
            return value == "true"
        }
        options.prune = try flag("prune")
        options.dryRun = try flag("dry_run")
        options.force = try flag("force")
        if let limit = query.get("max_delete") {
            guard let value = Int(limit), value >= 0 else { throw APIError.badRequest("max_delete must be a whole number, 0 or more", field: "max_delete") }
            options.maxDelete = value
        }
        if (options.force || options.maxDelete != nil) && !options.prune {
            throw APIError.badRequest("max_delete and force limit a prune; send prune=true or leave them out", field: options.force ? "force" : "max_delete")
        }
        if options.force && options.maxDelete != nil { throw APIError.badRequest("max_delete and force contradict each other; send one", field: "force") }
        // The upload keeps the user's own file name (a Markdown or text document is keyed by it, so uploading it again
        // updates it) in a folder of its own.
        let name = (query.get("filename") ?? "upload").filter { $0.isLetter || $0.isNumber || "-_.".contains($0) }.drop { $0 == "." }.prefix(100)
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        guard body.readableBytes > 0 else { throw APIError.badRequest("send the export file as the request body", field: "body") }
        let folder = (directory as NSString).appendingPathComponent("upload-\(UUID().uuidString.lowercased())")
        let path = (folder as NSString).appendingPathComponent(name.isEmpty ? "upload" : String(name))
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data(body.readableBytesView).write(to: URL(fileURLWithPath: path))
        } catch {
            throw APIError(.serviceUnavailable, code: "storage_failed", "the upload could not be stored: \(error.localizedDescription)")
        }
        if options.format == nil, IngestFormat.detect(path) == nil {
            try? FileManager.default.removeItem(atPath: folder)
            throw APIError(
                .unsupportedMediaType, code: "unknown_format",
                "the format cannot be told from the content; send ?format= (\(IngestFormat.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let manifest = KnowledgeJobs.Manifest(
            kind: .import, createdBy: caller.user.id, file: path, source: options.source, format: options.format?.rawValue, type: options.type,
            prune: options.prune, dryRun: options.dryRun, maxDelete: options.maxDelete, force: options.force)
        let job = try await jobs.submit(manifest, source: options.source ?? "import", format: options.format?.rawValue ?? "auto")
        let id = job.id
        await audit.record(
            options.dryRun ? "knowledge.import_preview" : "knowledge.import", actor: caller.user.id, target: "job:\(id)", context: context,
            detail: ["file": String(name), "prune": String(options.prune)])
        return EditedResponse(status: .accepted, response: Accepted(job: id, status: "queued"))
    }

    func show(request: Request, context: AppRequestContext) async throws -> JobView {
        let job = try await visibleJob(context)
        let errors = (try? JSONDecoder().decode([IngestSummary.Problem].self, from: Data(job.errors.utf8))) ?? []
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return JobView(
            id: job.id, source: job.source, format: job.format, status: job.status, total: job.total, processed: job.processed, skipped: job.failed,
            errors: errors, result: job.result.flatMap { try? decoder.decode(KnowledgeJobs.DocumentResult.self, from: Data($0.utf8)) },
            summary: job.result.flatMap { try? decoder.decode(IngestSummary.self, from: Data($0.utf8)) },
            createdAt: job.createdAt, updatedAt: job.updatedAt)
    }

    /// Stops a queued or running job at its next batch (what it committed stays); 409 when it has ended.
    func cancel(request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.caller(in: [.editor, .admin])
        let job = try await visibleJob(context)
        guard try await jobs.cancel(job.id) else {
            throw APIError(.conflict, code: "job_ended", "job \(job.id) has ended (\(job.status)); there is nothing to cancel")
        }
        await audit.record("knowledge.job_cancelled", actor: caller.user.id, target: "job:\(job.id)", context: context)
        return Response(status: .noContent)
    }

    /// The job named in the path, when it is the caller's or the caller is an admin; 404 otherwise.
    private func visibleJob(_ context: AppRequestContext) async throws -> IngestJobRecord {
        let caller = try context.caller(in: [.editor, .admin])
        let id = try context.parameters.require("job")
        guard id.count <= 100, let job = try await jobs.jobs.ingestJob(id: id), caller.rights.role == .admin || job.createdBy == caller.user.id else {
            throw APIError.notFound("no import job \(id)")
        }
        return job
    }
}
