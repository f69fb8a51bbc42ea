import Foundation
import Ingest
import Logging
import Retrieval
import ServiceLifecycle
import Storage
import Synchronization

/// Knowledge work too large for a request: a large document, an uploaded export. Each job is a row of
/// `ingest_jobs` (status, progress, errors, result) and a manifest file beside its input in the import folder;
/// it runs in the background, can be cancelled, is stopped at shutdown (`interrupted`) and resumed at the next
/// start from its manifest (an import from its checkpoint; a document is written whole or not at all).
final class KnowledgeJobs: Service, Sendable {
    /// What a job does, as its manifest keeps it.
    struct Manifest: Codable, Sendable {
        enum Kind: String, Codable, Sendable { case document, `import` }
        var kind: Kind
        /// The user whose rights the job writes with (their rights as they are when it runs).
        var createdBy: String
        var document: DocumentManifest?
        var file: String?
        var source: String?
        var format: String?
        var type: String?
        var prune: Bool?
        var dryRun: Bool?
        var maxDelete: Int?
        var force: Bool?
    }

    struct DocumentManifest: Codable, Sendable {
        var id: String?
        var source: String
        var externalId: String?
        var title: String
        var body: String
        var kind: String
        var metadata: [String: String]
        var access: [String]?
    }

    /// What a finished document job reports.
    struct DocumentResult: Codable, Sendable {
        var documentId: String
        var change: String
        var passages: Int
        var embedded: Int
    }

    let bank: KnowledgeBank
    let jobs: any IngestJobStore
    let accounts: any AccountStore
    let directory: String
    let audit: AuditTrail
    let logger: Logger
    private let running = Mutex<[String: Task<Void, Never>]>([:])
    private let stopping = Atomic<Bool>(false)

    init(bank: KnowledgeBank, jobs: any IngestJobStore, accounts: any AccountStore, directory: String, audit: AuditTrail, logger: Logger) {
        self.bank = bank
        self.jobs = jobs
        self.accounts = accounts
        self.directory = directory
        self.audit = audit
        self.logger = logger
    }

    func manifestPath(_ id: String) -> String { (directory as NSString).appendingPathComponent("\(id).job.json") }

    /// Records a job (its manifest first, then its row) and starts it.
    func submit(_ manifest: Manifest, source: String, format: String) async throws -> IngestJobRecord {
        let id = UUID().uuidString.lowercased()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        try encoder.encode(manifest).write(to: URL(fileURLWithPath: manifestPath(id)), options: .atomic)
        let now = Date()
        let job = IngestJobRecord(
            id: id, source: source, format: format, input: manifest.file ?? manifestPath(id), status: "queued", createdBy: manifest.createdBy, createdAt: now,
            updatedAt: now)
        try await jobs.createIngestJob(job)
        start(job, manifest)
        return job
    }

    /// Cancels a job: it stops at its next batch and is marked `cancelled` (what it committed stays).
    /// - Returns: false when the job was not running or queued.
    func cancel(_ id: String) async throws -> Bool {
        if let task = running.withLock({ $0[id] }) {
            task.cancel()
            await task.value
            return true
        }
        guard var job = try await jobs.ingestJob(id: id), ["queued", "running", "interrupted"].contains(job.status) else { return false }
        job.status = "cancelled"
        job.updatedAt = Date()
        try await jobs.updateIngestJob(job)
        removeFiles(id, manifest: nil)
        return true
    }

    /// Resumes the jobs a previous run left unfinished, then waits for shutdown and interrupts what still runs.
    func run() async throws {
        do {
            for job in try await jobs.ingestJobs(statuses: ["queued", "running", "interrupted"], limit: 100) {
                guard let manifest = loadManifest(job.id) else { continue }  // a command-line ingest's job: not ours
                logger.info("resuming knowledge job \(job.id) (\(job.format), \(job.status))")
                start(job, manifest)
            }
        } catch {
            logger.error("cannot read the unfinished knowledge jobs: \(error)")
        }
        try? await gracefulShutdown()
        stopping.store(true, ordering: .relaxed)
        let tasks = running.withLock { Array($0.values) }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    private func loadManifest(_ id: String) -> Manifest? {
        guard let data = FileManager.default.contents(atPath: manifestPath(id)) else { return nil }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try? decoder.decode(Manifest.self, from: data)
    }

    private func removeFiles(_ id: String, manifest: Manifest?) {
        try? FileManager.default.removeItem(atPath: manifestPath(id))
        if let file = manifest?.file ?? loadManifest(id)?.file {
            try? FileManager.default.removeItem(atPath: file)
            // An upload's folder of its own goes with it.
            let folder = (file as NSString).deletingLastPathComponent
            if (folder as NSString).lastPathComponent.hasPrefix("upload-") { try? FileManager.default.removeItem(atPath: folder) }
        }
    }

    private func start(_ job: IngestJobRecord, _ manifest: Manifest) {
        running.withLock { running in
            guard running[job.id] == nil else { return }
            running[job.id] = Task { [self] in
                await execute(job, manifest)
                _ = self.running.withLock { $0.removeValue(forKey: job.id) }
            }
        }
    }

    private func execute(_ initial: IngestJobRecord, _ manifest: Manifest) async {
        var job = initial
        do {
            guard let user = try await accounts.user(id: manifest.createdBy), user.disabledAt == nil else {
                throw JobFailure(message: "the user who started this job no longer has an enabled account")
            }
            let rights = AccessRights(userID: user.id, role: AccessRights.Role(rawValue: user.role) ?? .user, groups: Set(user.groups))
            job.status = "running"
            job.updatedAt = Date()
            try await jobs.updateIngestJob(job)
            switch manifest.kind {
            case .document: try await runDocument(&job, manifest, rights: rights)
            case .import: try await runImport(&job, manifest, rights: rights)
            }
            removeFiles(job.id, manifest: manifest)
        } catch is CancellationError {
            // A shutdown interrupts (the next start resumes); anything else is the user's cancellation.
            let interrupted = stopping.load(ordering: .relaxed)
            await finish(job.id, status: interrupted ? "interrupted" : "cancelled", errors: nil)
            if !interrupted { removeFiles(job.id, manifest: manifest) }
            logger.info("knowledge job \(job.id) \(interrupted ? "interrupted" : "cancelled")")
        } catch {
            let message = (error as? JobFailure)?.message ?? (error as? KnowledgeBankError)?.message ?? "\(error)"
            let file = manifest.file.map { ($0 as NSString).lastPathComponent } ?? "document"
            await finish(job.id, status: "failed", errors: StoredJSON.encode([IngestSummary.Problem(file: file, line: nil, message: message)]))
            removeFiles(job.id, manifest: manifest)
            logger.error("knowledge job \(job.id) failed: \(message)")
        }
    }

    /// Records how a job ended. The job's task may be cancelled, and the store refuses work in a cancelled task: the
    /// record is written from a task of its own.
    private func finish(_ id: String, status: String, errors: String?) async {
        let jobs = jobs
        await Task {
            guard var job = try? await jobs.ingestJob(id: id) else { return }
            job.status = status
            if let errors { job.errors = errors }
            job.updatedAt = Date()
            try? await jobs.updateIngestJob(job)
        }.value
    }

    struct JobFailure: Error {
        var message: String
    }

    private func runDocument(_ job: inout IngestJobRecord, _ manifest: Manifest, rights: AccessRights) async throws {
        guard let document = manifest.document else { throw JobFailure(message: "the job's manifest has no document") }
        let input = DocumentInput(
            id: document.id, source: document.source, externalID: document.externalId, title: document.title, body: document.body,
            kind: DocumentKind(rawValue: document.kind) ?? .text, metadata: document.metadata, access: document.access.map { AccessList(principals: $0) })
        let progressJob = Mutex(job)
        let store = jobs
        let outcome = try await bank.upsert([input], rights: rights) { embedded, total in
            // Progress in passages, written in order before the job's final status.
            let update = progressJob.withLock { job in
                job.total = total
                job.processed = embedded
                job.updatedAt = Date()
                return job
            }
            try? await store.updateIngestJob(update)
        }[0]
        guard outcome.change != .refused else {
            throw JobFailure(message: "a document with this source and external_id exists that you may not change; choose another external_id")
        }
        job = progressJob.withLock { $0 }
        job.status = "completed"
        job.total = job.total ?? outcome.chunks
        job.processed = job.total ?? outcome.chunks
        job.result = StoredJSON.encode(
            DocumentResult(documentId: outcome.documentID, change: outcome.change.rawValue, passages: outcome.chunks, embedded: outcome.embedded))
        job.updatedAt = Date()
        try await jobs.updateIngestJob(job)
        await audit.record(
            "knowledge.\(outcome.change.rawValue)", actor: manifest.createdBy, target: "document:\(outcome.documentID)", ip: nil,
            detail: ["title": document.title, "job": job.id])
        if outcome.widensAccess || (outcome.previousAccess != nil && outcome.previousAccess != outcome.access) {
            await audit.record(
                outcome.widensAccess ? "knowledge.access_widened" : "knowledge.access_changed", actor: manifest.createdBy,
                target: "document:\(outcome.documentID)", ip: nil,
                detail: ["before": outcome.previousAccess?.description ?? "", "after": outcome.access?.description ?? ""])
        }
    }

    private func runImport(_ job: inout IngestJobRecord, _ manifest: Manifest, rights: AccessRights) async throws {
        guard let file = manifest.file else { throw JobFailure(message: "the job's manifest names no file") }
        var options = IngestPipeline.Options()
        options.source = manifest.source
        options.format = manifest.format.flatMap(IngestFormat.init(rawValue:))
        options.type = manifest.type
        options.prune = manifest.prune ?? false
        options.dryRun = manifest.dryRun ?? false
        options.maxDelete = manifest.maxDelete
        options.force = manifest.force ?? false
        options.createdBy = manifest.createdBy
        options.rights = rights
        let summary: IngestSummary
        do {
            summary = try await IngestPipeline(bank: bank, jobs: jobs).run(paths: [file], options: options, existingJob: job.id)
        } catch let stop as PruneLimitExceeded {
            // Nothing was written; the job keeps what the prune would have deleted, for the page to show.
            job.result = IngestPipeline.resultJSON(stop.summary)
            job.updatedAt = Date()
            try await jobs.updateIngestJob(job)
            throw JobFailure(
                message: "\(stop.description). Check the export, then import it again with max_delete=\(stop.summary.deleted) to allow exactly this, or force=true")
        }
        if summary.dryRun {
            // A dry run writes no document; its job row is where the counts are kept.
            job.status = "completed"
            job.total = summary.read
            job.processed = summary.read
            job.failed = summary.skipped
            job.errors = StoredJSON.encode(summary.errors)
            job.result = IngestPipeline.resultJSON(summary)
            job.updatedAt = Date()
            try await jobs.updateIngestJob(job)
        }
        logger.info(
            "import \(job.id)\(summary.dryRun ? " (dry run)" : ""): \(summary.created) created, \(summary.updated) updated, \(summary.deleted) deleted, \(summary.skipped) skipped")
    }
}
