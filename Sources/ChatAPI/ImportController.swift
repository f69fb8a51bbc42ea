import Foundation
import Hummingbird
import Ingest
import Logging
import NIOCore
import Retrieval
import Storage

/// `POST /api/knowledge/import` (editors, admins): the export file as the body, read and written in the
/// background as an ingest job; `GET /api/knowledge/import/{job}` reports its progress and skipped records.
struct ImportController {
    let bank: KnowledgeBank
    let jobs: any IngestJobStore
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
        var createdAt: Date
        var updatedAt: Date
    }

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post(use: start)
        routes.get(":job", use: show)
        return routes
    }

    func start(request: Request, context: AppRequestContext) async throws -> EditedResponse<Accepted> {
        let caller = try context.caller(in: [.editor, .admin])
        let query = request.uri.queryParameters
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
        if let type = query.get("type"), !type.isEmpty { options.type = String(type.prefix(100)) }
        if let prune = query.get("prune") {
            guard ["true", "false"].contains(prune) else { throw APIError.badRequest("prune must be true or false", field: "prune") }
            options.prune = prune == "true"
        }
        let name = (query.get("filename") ?? "upload").filter { $0.isLetter || $0.isNumber || "-_.".contains($0) }.prefix(100)
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        guard body.readableBytes > 0 else { throw APIError.badRequest("send the export file as the request body", field: "body") }
        let id = UUID().uuidString.lowercased()
        let path = (directory as NSString).appendingPathComponent("\(id)-\(name.isEmpty ? "upload" : String(name))")
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data(body.readableBytesView).write(to: URL(fileURLWithPath: path))
        } catch {
            throw APIError(.serviceUnavailable, code: "storage_failed", "the upload could not be stored: \(error.localizedDescription)")
        }
        if options.format == nil, IngestFormat.detect(path) == nil {
            try? FileManager.default.removeItem(atPath: path)
            throw APIError(
                .unsupportedMediaType, code: "unknown_format",
                "the format cannot be told from the content; send ?format= (\(IngestFormat.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        options.createdBy = caller.user.id
        // The job row exists before the answer, so GET finds it at once.
        let now = Date()
        try await jobs.createIngestJob(
            IngestJobRecord(
                id: id, source: options.source ?? "import", format: options.format?.rawValue ?? "auto", input: path, status: "queued",
                createdBy: caller.user.id, createdAt: now, updatedAt: now))
        let pipeline = IngestPipeline(bank: bank, jobs: jobs)
        let logger = logger
        let jobs = jobs
        let runOptions = options
        Task {
            do {
                let summary = try await pipeline.run(paths: [path], options: runOptions, existingJob: id)
                logger.info("import \(id): \(summary.created) created, \(summary.updated) updated, \(summary.skipped) skipped")
                try? FileManager.default.removeItem(atPath: path)
            } catch {
                logger.error("import \(id) failed: \(error)")
                if var job = try? await jobs.ingestJob(id: id) {
                    job.status = "failed"
                    job.errors = JSONText.encode([IngestSummary.Problem(file: name.isEmpty ? "upload" : String(name), line: nil, message: "\(error)")])
                    job.updatedAt = Date()
                    try? await jobs.updateIngestJob(job)
                }
            }
        }
        await audit.record("knowledge.import", actor: caller.user.id, target: "job:\(id)", context: context, detail: ["file": String(name)])
        return EditedResponse(status: .accepted, response: Accepted(job: id, status: "queued"))
    }

    func show(request: Request, context: AppRequestContext) async throws -> JobView {
        _ = try context.caller(in: [.editor, .admin])
        let id = try context.parameters.require("job")
        guard id.count <= 100, let job = try await jobs.ingestJob(id: id) else { throw APIError.notFound("no import job \(id)") }
        let errors = (try? JSONDecoder().decode([IngestSummary.Problem].self, from: Data(job.errors.utf8))) ?? []
        return JobView(
            id: job.id, source: job.source, format: job.format, status: job.status, total: job.total, processed: job.processed, skipped: job.failed,
            errors: errors, createdAt: job.createdAt, updatedAt: job.updatedAt)
    }
}
