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
            Reads Salesforce data-tree JSON (a plan file or a data file) and CSV, ERPNext JSON fixtures, Odoo XML data \
            files, Northwind tables (a folder of CSV files, one table's CSV, or a PostgreSQL dump), other CSV tables, \
            JSON Lines, Markdown, HTML and text. The format is told from each file's content unless --format names it. \
            A folder is read file by file (a Salesforce folder through its plan, a Northwind folder as one database).

            Every record becomes one document keyed by (system, object type, record id), all taken from the data and \
            never from a file name: a Salesforce CSV row's object comes from its Id's key prefix (003 is a Contact), \
            ERPNext's from the doctype, Odoo's from the model, Northwind's from the table. Ingesting the same export \
            again, under any file name, changes nothing; a changed record is updated in place.

            --prune deletes the documents of the source, of the object types in this export, that the export no \
            longer has: a contacts export never deletes accounts. It lists what it deletes before deleting, and stops \
            with nothing written when that is more than --max-delete (default: 10 % of the documents it reaches, or \
            100, whichever is larger) unless --force is given. --dry-run counts what would be created, updated, \
            unchanged and deleted, and writes nothing.

            A bad record is reported with its file and line and skipped. Progress is committed every --batch records; \
            after an interruption (even kill -9) the same command resumes the job.

            Exit status: 0; 3 when records were skipped; 4 when a prune stopped at its limit; 1 on failure.

            Examples:
              omnifin ingest exports/coral-cloud --source coral-cloud
              omnifin ingest Contact-export.csv --source crm --prune --dry-run
            """
    )

    @Argument(help: "Files or folders to read.") var paths: [String]
    @Option(help: "The knowledge bank source the documents belong to (default: the system, e.g. salesforce).") var source: String?
    @Option(help: "auto, or one of: \(IngestFormat.allCases.map(\.rawValue).joined(separator: ", ")).") var format: String = "auto"
    @Option(help: "The object type of every CSV or JSON Lines record (default: from the data, never the file name).") var type: String?
    @Flag(help: "Delete the source's documents of the export's object types that the export no longer contains.") var prune = false
    @Option(help: "The most documents --prune may delete (default: 10 % of those it reaches, or 100).") var maxDelete: Int?
    @Flag(help: "Let --prune delete however many documents that is.") var force = false
    @Flag(help: "Report what would be created, updated, unchanged and deleted; write nothing.") var dryRun = false
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
        if let type, type.isEmpty || type.count > 100 || type.contains(":") { throw ValidationError("--type must be 1 to 100 characters without ':'") }
        if let maxDelete, maxDelete < 0 { throw ValidationError("--max-delete must be 0 or more") }
        if (maxDelete != nil || force) && !prune { throw ValidationError("--max-delete and --force limit --prune; add --prune or leave them out") }
        if maxDelete != nil && force { throw ValidationError("--max-delete and --force contradict each other; give one") }
    }

    func run() async throws {
        let logger = Wiring.logger("omnifin.ingest")
        let (store, knowledge, _) = try await bank.open(logger: logger)
        var options = IngestPipeline.Options(source: source, format: IngestFormat(rawValue: format), prune: prune)
        options.type = type
        options.batchSize = batch
        options.dryRun = dryRun
        options.maxDelete = maxDelete
        options.force = force
        let terminal = isatty(STDERR_FILENO) == 1
        let lastLine = LastLine()
        let summary: IngestSummary
        do {
            summary = try await IngestPipeline(bank: knowledge, jobs: store).run(paths: paths, options: options) { progress in
                Self.report(progress, terminal: terminal, last: lastLine)
            } deleting: { deletions in
                if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
                Self.list(deletions, heading: "deleting \(deletions.count) \(deletions.count == 1 ? "document" : "documents") the export no longer has:")
            }
        } catch let stop as PruneLimitExceeded {
            await store.close()
            Self.list(stop.summary.deletions, total: stop.summary.deleted, heading: "the prune would delete:")
            FileHandle.standardError.write(
                Data(
                    ("omnifin ingest: \(stop.description).\nCheck the export, then run again with --max-delete \(stop.summary.deleted) to allow exactly "
                        + "this, or --force; --dry-run shows the rest of the changes.\n").utf8))
            throw ExitCode(4)
        } catch {
            await store.close()
            throw error
        }
        if terminal && !dryRun { FileHandle.standardError.write(Data("\n".utf8)) }
        if !dryRun { _ = try? await knowledge.saveSnapshot() }
        await store.close()
        if json {
            try JSONOutput.print(summary)
        } else {
            for problem in summary.errors.prefix(50) {
                FileHandle.standardError.write(Data("skipped \(problem.file)\(problem.line.map { ":\($0)" } ?? ""): \(problem.message)\n".utf8))
            }
            if summary.errors.count > 50 { FileHandle.standardError.write(Data("… and \(summary.errors.count - 50) more\n".utf8)) }
            if dryRun {
                Self.list(summary.deletions, total: summary.deleted, heading: "the prune would delete:")
                print(
                    "\(summary.source): read \(summary.read) records; dry run, nothing written: would create \(summary.created), update \(summary.updated), "
                        + "leave \(summary.unchanged) unchanged, delete \(summary.deleted), skip \(summary.skipped)"
                        + (summary.deleteLimit.map { summary.deleted > $0 ? " (more than the limit of \($0): a real run would stop)" : "" } ?? ""))
            } else {
                print(
                    "\(summary.source): read \(summary.read) records: \(summary.created) created, \(summary.updated) updated, \(summary.unchanged) unchanged, "
                        + "\(summary.deleted) deleted, \(summary.skipped) skipped in \(String(format: "%.1f", summary.seconds)) s"
                        + (summary.resumedFrom > 0 ? " (resumed after \(summary.resumedFrom))" : ""))
            }
        }
        if summary.skipped > 0 { throw ExitCode(3) }
    }

    /// Lists documents a prune deletes on standard error, the first 50 of them.
    static func list(_ deletions: [IngestSummary.Deletion], total: Int? = nil, heading: String) {
        guard !deletions.isEmpty else { return }
        var text = heading + "\n"
        for deletion in deletions.prefix(50) { text += "  - \(deletion.externalId ?? deletion.id)  \(deletion.title)\n" }
        let count = total ?? deletions.count
        if count > 50 { text += "  … and \(count - 50) more\n" }
        FileHandle.standardError.write(Data(text.utf8))
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
