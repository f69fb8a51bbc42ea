import ArgumentParser
import Foundation
import Ingest
import Logging
import Retrieval
import Storage

struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Load CRM/ERP exports and documents into the knowledge bank.",
        discussion: """
            Reads Salesforce data-tree JSON (a plan file or a data file) and CSV, ERPNext JSON fixtures, Odoo XML data files,
            Northwind tables (a folder of CSV files, or a PostgreSQL dump), JSON Lines, Markdown, HTML and text; the format is
            told from each file's content unless --format names it. A folder is read file by file (a Salesforce folder
            through its plan, a Northwind folder as one database). Every record becomes one document keyed by
            (system, object type, record id): ingesting the same export again changes nothing, a changed record is updated
            in place, and --prune deletes the source's documents the export no longer has.
            A bad record is reported with its file and line and skipped. Progress is committed every --batch records; after
            an interruption (even kill -9) the same command resumes the job.
            Exit status: 0, 3 when records were skipped, 1 on failure.
            Example: omnifin ingest ../shared/data/crm_erp/salesforce_coral_cloud --source coral-cloud
            """
    )

    @Argument(help: "Files or folders to read.") var paths: [String]
    @Option(help: "The knowledge bank source the documents belong to (default: the system, e.g. salesforce).") var source: String?
    @Option(help: "auto, or one of: \(IngestFormat.allCases.map(\.rawValue).joined(separator: ", ")).") var format: String = "auto"
    @Option(help: "The object type of CSV rows (default: the file name).") var type: String?
    @Flag(help: "Delete documents of the source that this export no longer contains.") var prune = false
    @Option(help: "Records per committed batch.") var batch: Int = 64
    @Flag(help: "Print the summary as JSON.") var json = false
    @OptionGroup var bank: KnowledgeBankOptions

    func validate() throws {
        guard format == "auto" || IngestFormat(rawValue: format) != nil else {
            throw ValidationError("--format must be auto or one of \(IngestFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard (1...10_000).contains(batch) else { throw ValidationError("--batch must be 1 to 10,000") }
        for path in paths where !FileManager.default.fileExists(atPath: path) { throw ValidationError("\(path) does not exist") }
        if let source, source.isEmpty || source.count > 100 { throw ValidationError("--source must be 1 to 100 characters") }
    }

    func run() async throws {
        let logger = Wiring.logger("omnifin.ingest")
        let (store, knowledge, _) = try await bank.open(logger: logger)
        var options = IngestPipeline.Options(source: source, format: IngestFormat(rawValue: format), prune: prune)
        options.type = type
        options.batchSize = batch
        let terminal = isatty(STDERR_FILENO) == 1
        let lastLine = LastLine()
        let summary: IngestSummary
        do {
            summary = try await IngestPipeline(bank: knowledge, jobs: store).run(paths: paths, options: options) { progress in
                Self.report(progress, terminal: terminal, last: lastLine)
            }
        } catch {
            await store.close()
            throw error
        }
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
        _ = try? await knowledge.saveSnapshot()
        await store.close()
        if json {
            try JSONOutput.print(summary)
        } else {
            for problem in summary.errors.prefix(50) {
                FileHandle.standardError.write(Data("skipped \(problem.file)\(problem.line.map { ":\($0)" } ?? ""): \(problem.message)\n".utf8))
            }
            if summary.errors.count > 50 { FileHandle.standardError.write(Data("… and \(summary.errors.count - 50) more\n".utf8)) }
            print(
                "\(summary.source): read \(summary.read) records: \(summary.created) created, \(summary.updated) updated, \(summary.unchanged) unchanged, "
                    + "\(summary.deleted) deleted, \(summary.skipped) skipped in \(String(format: "%.1f", summary.seconds)) s"
                    + (summary.resumedFrom > 0 ? " (resumed after \(summary.resumedFrom))" : ""))
        }
        if summary.skipped > 0 { throw ExitCode(3) }
    }

    /// When the last plain progress line went out (not a terminal: one line every five seconds).
    final class LastLine: @unchecked Sendable {
        private let lock = NSLock()
        private var time = Date.distantPast
        func due() -> Bool {
            lock.lock()
            defer { lock.unlock() }
            guard Date().timeIntervalSince(time) >= 5 else { return false }
            time = Date()
            return true
        }
    }

    static func report(_ progress: IngestPipeline.Progress, terminal: Bool, last: LastLine) {
        let rate = progress.elapsed > 0 ? Double(progress.done) / progress.elapsed : 0
        let remaining = rate > 0 ? Double(progress.total - progress.done) / rate : 0
        if terminal {
            let width = 30
            let filled = progress.total == 0 ? width : width * progress.done / progress.total
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            FileHandle.standardError.write(
                Data(String(format: "\r  %@ %d/%d records  %.0f/s  ETA %.0f s ", bar, progress.done, progress.total, rate, remaining).utf8))
        } else if last.due() || progress.done == progress.total {
            FileHandle.standardError.write(
                Data(String(format: "ingest: %d/%d records, %.0f/s, ETA %.0f s\n", progress.done, progress.total, rate, remaining).utf8))
        }
    }
}
