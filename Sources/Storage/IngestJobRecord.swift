public import Foundation

/// A bulk import: what it reads, how far it got, what it skipped. The checkpoint makes it resumable.
public struct IngestJobRecord: Sendable, Equatable {
    public var id: String
    /// The knowledge bank source the records go to.
    public var source: String
    public var format: String
    /// What was read (paths and their sizes), so a rerun of the same command finds the unfinished job.
    public var input: String
    /// `queued`, `running`, `completed`, `failed`, `cancelled`, or `interrupted` (by a shutdown; resumed at the next start).
    public var status: String
    public var total: Int?
    public var processed: Int
    public var failed: Int
    /// JSON array of `{"file", "line", "message"}`.
    public var errors: String
    /// How many records (in reading order) are committed.
    public var checkpoint: String?
    /// What the job produced, as JSON (a document job: its document id and change).
    public var result: String?
    public var createdBy: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, source: String, format: String, input: String, status: String, total: Int? = nil, processed: Int = 0, failed: Int = 0,
        errors: String = "[]", checkpoint: String? = nil, result: String? = nil, createdBy: String? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.result = result
        self.id = id
        self.source = source
        self.format = format
        self.input = input
        self.status = status
        self.total = total
        self.processed = processed
        self.failed = failed
        self.errors = errors
        self.checkpoint = checkpoint
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Bulk import jobs.
public protocol IngestJobStore: Sendable {
    func createIngestJob(_ job: IngestJobRecord) async throws
    func ingestJob(id: String) async throws -> IngestJobRecord?
    /// Replaces the stored job with the same id.
    func updateIngestJob(_ job: IngestJobRecord) async throws
    /// The newest job for this source and input that did not complete (what a rerun resumes).
    func unfinishedIngestJob(source: String, input: String) async throws -> IngestJobRecord?
    /// Jobs in one of `statuses`, oldest first (what a starting server resumes).
    func ingestJobs(statuses: [String], limit: Int) async throws -> [IngestJobRecord]
}
