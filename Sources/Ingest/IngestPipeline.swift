import Foundation
public import Retrieval
public import Storage

/// What an ingest run did, as `omnifin ingest --json` prints it and the import job reports it.
public struct IngestSummary: Sendable, Codable, Equatable {
    public struct Problem: Sendable, Codable, Equatable {
        public var file: String
        public var line: Int?
        public var message: String

        public init(file: String, line: Int?, message: String) {
            self.file = file
            self.line = line
            self.message = message
        }
    }

    public var job: String
    public var source: String
    public var read = 0
    public var created = 0
    public var updated = 0
    public var unchanged = 0
    public var deleted = 0
    public var skipped = 0
    public var errors: [Problem] = []
    public var seconds = 0.0
    /// Records already committed by an interrupted run of the same job, not written again.
    public var resumedFrom = 0
    /// A dry run: the counts say what a run would do; nothing was written.
    public var dryRun = false
    /// What a prune reaches: the `system:type` of every object type in the export, within `source`.
    public var pruneScope: [String] = []
    /// The most documents the prune may delete (`--max-delete`), `nil` without a prune or with `--force`.
    public var deleteLimit: Int?
    /// The documents the prune deletes (or would), the first 1,000.
    public var deletions: [Deletion] = []

    public struct Deletion: Sendable, Codable, Equatable {
        public var id: String
        public var externalId: String?
        public var title: String
    }

    public init(job: String, source: String) {
        self.job = job
        self.source = source
    }

    /// Counts what a write did (or a dry run would do) to one document.
    /// - Returns: false for a document the writer may not change (counted as skipped).
    @discardableResult
    mutating func count(_ change: UpsertOutcome.Change) -> Bool {
        switch change {
        case .created: created += 1
        case .updated, .metadataUpdated: updated += 1
        case .unchanged: unchanged += 1
        case .refused:
            skipped += 1
            return false
        }
        return true
    }
}

/// A prune that would delete more than its limit: nothing was written.
public struct PruneLimitExceeded: Error, Sendable, CustomStringConvertible {
    /// What the run would have done, its deletions listed.
    public var summary: IngestSummary
    /// How many documents the prune reaches (the source's documents of the export's object types).
    public var reach: Int

    public var description: String {
        "the prune would delete \(summary.deleted) of the \(reach) documents of \(summary.source) it reaches "
            + "(\(summary.pruneScope.joined(separator: ", "))), more than the limit of \(summary.deleteLimit ?? 0); nothing was written"
    }
}

/// Reads exports, turns records into knowledge documents and writes them in batches, with a checkpoint per batch
/// in `ingest_jobs`: after a crash, the same command resumes the unfinished job where it stopped. Writes are
/// idempotent (content hashes), so a batch committed just before the crash but not yet checkpointed is found
/// unchanged, never duplicated.
public struct IngestPipeline: Sendable {
    public struct Options: Sendable {
        /// The knowledge bank source (default: the system the records come from, e.g. `salesforce`).
        public var source: String?
        /// `nil` detects each file's format from its content.
        public var format: IngestFormat?
        /// The object type of CSV and JSON Lines records (default: from the data: a Salesforce id's key prefix, a
        /// `type` column, else `record`; never the file name).
        public var type: String?
        /// Delete the documents of the source, of the object types the export holds, that it no longer contains.
        public var prune = false
        /// Count what would be created, updated, unchanged and deleted; write nothing.
        public var dryRun = false
        /// The most documents a prune may delete before it stops with nothing written (`nil`: 10 % of the documents
        /// it reaches, or 100, whichever is larger).
        public var maxDelete: Int?
        /// Prune however many documents that is.
        public var force = false
        public var batchSize = 64
        public var createdBy: String?
        /// Who may see the documents; `nil` keeps the stored list of documents that exist (new ones are open to every
        /// signed-in user), so a re-import never widens what an editor narrowed.
        public var access: AccessList?
        /// Whose import this is: documents the writer may not see are neither changed nor deleted, and are reported as
        /// skipped (``AccessRights/everything`` for the operator's command line).
        public var rights: AccessRights = .everything

        public init(source: String? = nil, format: IngestFormat? = nil, prune: Bool = false) {
            self.source = source
            self.format = format
            self.prune = prune
        }
    }

    public struct Progress: Sendable {
        public var done: Int
        public var total: Int
        public var elapsed: Double
    }

    let bank: KnowledgeBank
    let jobs: any IngestJobStore

    public init(bank: KnowledgeBank, jobs: any IngestJobStore) {
        self.bank = bank
        self.jobs = jobs
    }

    /// The files a path stands for: itself, or a folder's files (a Northwind folder as one input; a Salesforce
    /// folder through its plan files).
    public static func inputs(_ paths: [String]) -> [(path: String, format: IngestFormat?)] {
        var inputs: [(String, IngestFormat?)] = []
        for path in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
                inputs.append((path, nil))
                continue
            }
            if IngestFormat.detect(path) == .northwindCSV {
                inputs.append((path, .northwindCSV))
                continue
            }
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().filter { !$0.hasPrefix(".") && !$0.hasPrefix("_") }
            let files = names.map { (path as NSString).appendingPathComponent($0) }
            let plans = files.compactMap { file in file.hasSuffix(".json") ? Self.plan(file).map { (path: file, plan: $0) } : nil }
            if !plans.isEmpty {
                // Each plan is read once; a second plan over the same objects (a larger export of them) is left out, and
                // the data files any plan names are read through it only.
                var seenObjects: Set<[String]> = []
                for plan in plans where seenObjects.insert(plan.plan.objects).inserted { inputs.append((plan.path, .salesforceTree)) }
                let covered = Set(plans.flatMap(\.plan.files))
                let planPaths = Set(plans.map(\.path))
                inputs += files.filter { !planPaths.contains($0) && !covered.contains(($0 as NSString).lastPathComponent) }.map { ($0, nil) }
            } else {
                inputs += files.map { ($0, nil) }
            }
        }
        return inputs
    }

    /// A Salesforce plan file: the objects it loads and the data files it names; `nil` for any other file.
    static func plan(_ path: String) -> (objects: [String], files: [String])? {
        guard let data = FileManager.default.contents(atPath: path), let plan = (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]],
            plan.first?["sobject"] != nil
        else { return nil }
        return (plan.compactMap { $0["sobject"] as? String }.sorted(), plan.flatMap { ($0["files"] as? [String]) ?? [] })
    }

    /// Reads one input.
    public static func read(_ path: String, format: IngestFormat?, type: String?) -> (ReadResult, IngestFormat?) {
        let name = (path as NSString).lastPathComponent
        if format == nil, let data = FileManager.default.contents(atPath: path),
            String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "[]"
        {
            return (ReadResult(), nil)  // an empty export (ERPNext writes [] for a doctype without records)
        }
        guard let format = format ?? IngestFormat.detect(path) else {
            return (ReadResult(issues: [IngestIssue(file: name, line: nil, reason: "the format cannot be told from the content; pass --format")]), nil)
        }
        var isFolder: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
        switch format {
        case .salesforceTree: return (SalesforceReader.readTree(path), format)
        case .salesforceCSV: return (SalesforceReader.readCSV(path, type: type), format)
        case .erpnext: return (ERPNextReader.read(path), format)
        case .odoo: return (OdooReader.read(path), format)
        case .northwindCSV: return (isFolder.boolValue ? NorthwindReader.readFolder(path) : NorthwindReader.readFiles([path]), format)
        case .northwindSQL: return (NorthwindReader.readDump(path), format)
        case .csv: return (GenericReaders.readCSV(path, type: type), format)
        case .jsonLines: return (GenericReaders.readJSONLines(path, type: type), format)
        case .markdown, .html, .text: return (GenericReaders.readDocument(path, format: format), format)
        }
    }

    /// The default limit of a prune reaching `reach` documents: 10 % of them, or 100, whichever is larger.
    public static func defaultDeleteLimit(reach: Int) -> Int { max(100, (reach + 9) / 10) }

    /// Runs (or resumes) the ingest of `paths`.
    /// - Throws: ``PruneLimitExceeded`` before writing anything when a prune would delete more than its limit; store
    ///   and knowledge bank errors (the job is then marked failed and can be resumed).
    /// - Parameters:
    ///   - existingJob: the id of a job row created beforehand (the HTTP import), which this run fills in.
    ///   - deleting: called with the documents a prune is about to delete, before it deletes them.
    public func run(
        paths: [String], options: Options, existingJob: String? = nil, progress: @Sendable (Progress) -> Void = { _ in },
        deleting: @Sendable ([IngestSummary.Deletion]) -> Void = { _ in }
    ) async throws -> IngestSummary {
        let started = ContinuousClock.now
        var result = ReadResult()
        var formats: [String] = []
        for (path, format) in Self.inputs(paths) {
            let (read, used) = Self.read(path, format: options.format ?? format, type: options.type)
            result.append(read)
            if let used { formats.append(used.rawValue) }
        }
        // One document per key: a record repeated in the export is written once, as its last occurrence.
        var order: [String] = []
        var byKey: [String: SourceRecord] = [:]
        for record in result.records {
            if byKey[record.key] == nil { order.append(record.key) }
            byKey[record.key] = record
        }
        let source = options.source ?? result.records.first?.system ?? "import"
        // A record the knowledge bank would refuse (above the size limit, say) is reported and skipped, not the batch.
        var rejected: [IngestSummary.Problem] = []
        let documents = order.compactMap { key -> DocumentInput? in
            var document = byKey[key]!.document(source: source)
            document.access = options.access
            if let problem = bank.check(document) {
                rejected.append(.init(file: byKey[key]!.system, line: nil, message: "record \(key): \(problem.message)"))
                return nil
            }
            return document
        }

        var summary = IngestSummary(job: existingJob ?? "", source: source)
        summary.read = result.records.count
        summary.skipped = result.issues.count + rejected.count
        summary.errors = result.issues.map { .init(file: $0.file, line: $0.line, message: $0.reason) } + rejected
        summary.dryRun = options.dryRun

        // The prune is planned before anything is written, so a prune above its limit writes nothing at all. It reaches
        // the source's documents of the object types this export holds: a contacts export never deletes accounts.
        var stale: [IngestSummary.Deletion] = []
        if options.prune {
            summary.pruneScope = Set(byKey.values.map { "\($0.system):\($0.type)" }).sorted()
            let prefixes = summary.pruneScope.map { $0 + ":" }
            let keep = Set(order)
            let reached = try await bank.documentKeys(source: source, rights: options.rights).filter { document in
                guard let key = document.externalID else { return false }
                return prefixes.contains { key.hasPrefix($0) }
            }
            stale = reached.filter { !keep.contains($0.externalID ?? "") }.sorted { ($0.externalID ?? "") < ($1.externalID ?? "") }
                .map { IngestSummary.Deletion(id: $0.id, externalId: $0.externalID, title: $0.title) }
            summary.deleteLimit = options.force ? nil : options.maxDelete ?? Self.defaultDeleteLimit(reach: reached.count)
            summary.deleted = stale.count
            summary.deletions = Array(stale.prefix(1_000))
            if let limit = summary.deleteLimit, stale.count > limit, !options.dryRun {
                summary.seconds = (ContinuousClock.now - started).inSeconds
                throw PruneLimitExceeded(summary: summary, reach: reached.count)
            }
        }

        if options.dryRun {
            for change in try await bank.preview(documents, rights: options.rights) { summary.count(change) }
            summary.seconds = (ContinuousClock.now - started).inSeconds
            return summary
        }
        summary.deleted = 0

        let input = Self.fingerprint(paths)
        let now = Date()
        var job: IngestJobRecord
        if let existingJob, var existing = try await jobs.ingestJob(id: existingJob) {
            existing.source = source
            existing.format = Set(formats).sorted().joined(separator: ",")
            existing.input = input
            job = existing
        } else if let unfinished = try await jobs.unfinishedIngestJob(source: source, input: input) {
            job = unfinished
        } else {
            job = IngestJobRecord(
                id: UUID().uuidString.lowercased(), source: source, format: Set(formats).sorted().joined(separator: ","), input: input, status: "running",
                createdBy: options.createdBy, createdAt: now, updatedAt: now)
            try await jobs.createIngestJob(job)
        }
        job.status = "running"
        job.total = documents.count
        summary.job = job.id
        let resumeAt = min(Int(job.checkpoint ?? "") ?? 0, documents.count)
        summary.resumedFrom = resumeAt
        job.failed = summary.skipped
        job.errors = String(decoding: (try? JSONEncoder().encode(summary.errors)) ?? Data("[]".utf8), as: UTF8.self)

        do {
            var position = resumeAt
            while position < documents.count {
                let end = min(documents.count, position + max(1, options.batchSize))
                let batch = Array(documents[position..<end])
                for (document, outcome) in zip(batch, try await bank.upsert(batch, rights: options.rights)) {
                    if !summary.count(outcome.change) {
                        summary.errors.append(
                            .init(file: source, line: nil, message: "record \(document.externalID ?? document.title): a document with this identity exists that you may not change"))
                    }
                }
                position = end
                job.processed = position
                job.failed = summary.skipped
                job.errors = String(decoding: (try? JSONEncoder().encode(summary.errors)) ?? Data("[]".utf8), as: UTF8.self)
                job.checkpoint = String(position)
                job.updatedAt = Date()
                try await jobs.updateIngestJob(job)
                progress(Progress(done: position, total: documents.count, elapsed: (ContinuousClock.now - started).inSeconds))
            }
            if !stale.isEmpty {
                deleting(stale)
                summary.deleted = try await delete(stale.map(\.id), rights: options.rights)
            }
            job.status = "completed"
        } catch {
            job.status = "failed"
            job.updatedAt = Date()
            try? await jobs.updateIngestJob(job)
            throw error
        }
        summary.seconds = (ContinuousClock.now - started).inSeconds
        job.result = Self.resultJSON(summary)
        job.updatedAt = Date()
        try await jobs.updateIngestJob(job)
        return summary
    }

    /// An import's summary as its job's `result` keeps it: snake_case JSON, as the API shows it.
    public static func resultJSON(_ summary: IngestSummary) -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: (try? encoder.encode(summary)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// Deletes documents by id, in batches, as far as `rights` reach.
    func delete(_ ids: [String], rights: AccessRights) async throws -> Int {
        var deleted = 0
        for start in stride(from: 0, to: ids.count, by: 256) {
            deleted += try await bank.delete(ids: Array(ids[start..<min(ids.count, start + 256)]), rights: rights).count
        }
        return deleted
    }

    /// The paths with their sizes and modification times: the same export gives the same job.
    static func fingerprint(_ paths: [String]) -> String {
        var parts: [String] = []
        for (path, _) in inputs(paths) {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let size = (attributes?[.size] as? NSNumber)?.intValue ?? 0
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            parts.append("\(URL(fileURLWithPath: path).standardizedFileURL.path)|\(size)|\(Int(modified))")
        }
        return parts.sorted().joined(separator: "\n")
    }
}
