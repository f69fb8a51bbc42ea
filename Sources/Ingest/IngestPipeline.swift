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
        /// The object type of CSV rows (default: the file name).
        public var type: String?
        /// Delete the source's documents that the export no longer contains.
        public var prune = false
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
        let stem = String(name.prefix { $0 != "." })
        switch format {
        case .salesforceTree: return (SalesforceReader.readTree(path), format)
        case .salesforceCSV: return (SalesforceReader.readCSV(path, type: type ?? stem), format)
        case .erpnext: return (ERPNextReader.read(path), format)
        case .odoo: return (OdooReader.read(path), format)
        case .northwindCSV: return (NorthwindReader.readFolder(path), format)
        case .northwindSQL: return (NorthwindReader.readDump(path), format)
        case .jsonLines: return (GenericReaders.readJSONLines(path), format)
        case .markdown, .html, .text: return (GenericReaders.readDocument(path, format: format), format)
        }
    }

    /// Runs (or resumes) the ingest of `paths`.
    /// - Throws: store and knowledge bank errors (the job is then marked failed and can be resumed).
    /// - Parameter existingJob: the id of a job row created beforehand (the HTTP import), which this run fills in.
    public func run(paths: [String], options: Options, existingJob: String? = nil, progress: @Sendable (Progress) -> Void = { _ in }) async throws
        -> IngestSummary
    {
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
        var summary = IngestSummary(job: job.id, source: source)
        summary.read = result.records.count
        summary.skipped = result.issues.count + rejected.count
        summary.errors = result.issues.map { .init(file: $0.file, line: $0.line, message: $0.reason) } + rejected
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
                    switch outcome.change {
                    case .created: summary.created += 1
                    case .updated, .metadataUpdated: summary.updated += 1
                    case .unchanged: summary.unchanged += 1
                    case .refused:
                        summary.skipped += 1
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
            if options.prune { summary.deleted = try await prune(source: source, keep: Set(order), rights: options.rights) }
            job.status = "completed"
        } catch {
            job.status = "failed"
            job.updatedAt = Date()
            try? await jobs.updateIngestJob(job)
            throw error
        }
        summary.seconds = (ContinuousClock.now - started).inSeconds
        job.updatedAt = Date()
        try await jobs.updateIngestJob(job)
        return summary
    }

    /// Deletes the documents of `source` that `rights` may see whose external id is not in `keep`.
    func prune(source: String, keep: Set<String>, rights: AccessRights) async throws -> Int {
        var stale: [String] = []
        var cursor: String?
        repeat {
            let page = try await bank.documents(after: cursor, limit: 500, source: source, rights: rights)
            stale += page.documents.filter { !keep.contains($0.externalID ?? "") }.map(\.id)
            cursor = page.next
        } while cursor != nil
        var deleted = 0
        for start in stride(from: 0, to: stale.count, by: 256) {
            deleted += try await bank.delete(ids: Array(stale[start..<min(stale.count, start + 256)]), rights: rights).count
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
