import Foundation
import Ingest
import Logging
import Retrieval
import Storage
import StoreTesting
import Testing

@Suite("Ingest pipeline", .serialized)
struct PipelineTests {
    static let embedder: Result<BuiltinEmbedder, any Error> = Result { try BuiltinEmbedder(threads: 2) }

    static func withBank(_ kind: StoreKind, _ body: (KnowledgeBank, any OmnifinStore, URL) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-ingest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await TestStores.withDatabaseURL(kind) { url in
            let store = try await StoreFactory.open(url: url)
            let embedder = try embedder.get()
            var logger = Logger(label: "omnifin.test")
            logger.logLevel = .error
            let (bank, _) = try await KnowledgeBank.open(store: store, embedder: embedder, chunker: KnowledgeBank.defaultChunker(for: embedder), logger: logger)
            do {
                try await body(bank, store, directory)
            } catch {
                await store.close()
                throw error
            }
            await store.close()
        }
    }

    static func write(_ text: String, to url: URL) throws {
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    @Test("ingesting again changes nothing; a changed record is updated; --prune deletes what the export dropped", arguments: StoreKind.allCases)
    func idempotentUpdatePrune(kind: StoreKind) async throws {
        try await Self.withBank(kind) { bank, store, directory in
            let pipeline = IngestPipeline(bank: bank, jobs: store)
            let file = directory.appendingPathComponent("tickets.jsonl")
            try Self.write(
                """
                {"id": "T-1", "type": "ticket", "title": "Refund for order 10248", "body": "The customer asks for a refund of 168.00 EUR.", "owner": "Ann"}
                {"id": "T-2", "type": "ticket", "title": "Invoice address change", "body": "Update the billing address to Reims."}
                {"id": "T-3", "type": "ticket", "title": "Late delivery", "body": "Federal Shipping delivered two weeks late."}
                """, to: file)
            let first = try await pipeline.run(paths: [file.path], options: .init(source: "helpdesk"))
            #expect(first.created == 3 && first.read == 3 && first.skipped == 0)
            let again = try await pipeline.run(paths: [file.path], options: .init(source: "helpdesk"))
            #expect(again.unchanged == 3 && again.created == 0 && again.updated == 0)

            try Self.write(
                """
                {"id": "T-1", "type": "ticket", "title": "Refund for order 10248", "body": "The customer asks for a refund of 200.00 EUR.", "owner": "Ann"}
                {"id": "T-3", "type": "ticket", "title": "Late delivery", "body": "Federal Shipping delivered two weeks late."}
                """, to: file)
            let changed = try await pipeline.run(paths: [file.path], options: .init(source: "helpdesk", prune: true))
            #expect(changed.updated == 1 && changed.unchanged == 1 && changed.deleted == 1)
            #expect(try await store.document(source: "helpdesk", externalID: "file:ticket:T-2") == nil)
            let refund = try #require(try await store.document(source: "helpdesk", externalID: "file:ticket:T-1"))
            #expect(refund.body.contains("200.00 EUR") && refund.body.contains("Owner: Ann") && refund.metadata["type"] == "ticket")
            let hits = try await bank.search(KnowledgeQuery("refund 200 EUR", k: 1), rights: .everything)
            #expect(hits.first?.title == "Refund for order 10248")
        }
    }

    @Test("bad records of every format are reported with file and line and skipped; the rest goes in")
    func malformed() async throws {
        try await Self.withBank(.sqlite) { bank, store, directory in
            let files: [(String, String)] = [
                ("accounts.csv", "Id,Name,Phone\n001A0000006Vm9rIAC,Acme,123\n002,Broken row\n,No id,456\n001A0000006Vm9s,\"Quoted, with comma\",789\n"),
                ("tree.json", #"{"records": [{"attributes": {"type": "Case", "referenceId": "C1"}, "Subject": "Good"}, 42, {"attributes": {"type": "Case"}, "Subject": "No reference"}]}"#),
                ("fixtures.json", #"[{"doctype": "Customer", "name": "Acme", "customer_name": "Acme"}, {"name": "No doctype"}, "text"]"#),
                ("data.xml", "<?xml version=\"1.0\"?>\n<odoo>\n<record id=\"p1\" model=\"document.page\"><field name=\"name\">Page one</field></record>\n<record model=\"document.page\"><field name=\"name\">No id</field></record>\n</odoo>\n"),
                ("lines.jsonl", "{\"id\": \"a\", \"title\": \"Fine\"}\n{broken json\n{\"id\": \"b\", \"title\": \"Also fine\"}\n"),
            ]
            for (name, text) in files { try Self.write(text, to: directory.appendingPathComponent(name)) }
            let summary = try await IngestPipeline(bank: bank, jobs: store).run(paths: [directory.path], options: .init(source: "mixed"))
            let problems = Set(summary.errors.map { "\($0.file):\($0.line.map(String.init) ?? "-")" })
            #expect(problems == ["accounts.csv:3", "accounts.csv:4", "tree.json:2", "tree.json:3", "fixtures.json:2", "fixtures.json:3", "data.xml:4", "lines.jsonl:2"], "\(summary.errors)")
            #expect(summary.skipped == 8 && summary.created == 7)
            let quoted = try #require(try await store.document(source: "mixed", externalID: "salesforce:Account:001A0000006Vm9sIAC"))
            #expect(quoted.title == "Quoted, with comma")
        }
    }

    @Test("an interrupted job resumes from its checkpoint without duplicates")
    func resumes() async throws {
        try await Self.withBank(.postgres) { bank, store, directory in
            let file = directory.appendingPathComponent("notes.jsonl")
            try Self.write((1...30).map { #"{"id": "N-\#($0)", "title": "Note \#($0)", "body": "Reconciliation note number \#($0)."}"# }.joined(separator: "\n"), to: file)
            var options = IngestPipeline.Options(source: "notes")
            options.batchSize = 8
            let pipeline = IngestPipeline(bank: bank, jobs: store)
            // A first run that stops after two batches, as a crash would leave it: the job is unfinished at checkpoint 16.
            let full = try await pipeline.run(paths: [file.path], options: options)
            #expect(full.created == 30)
            var job = try #require(try await store.ingestJob(id: full.job))
            job.status = "running"
            job.checkpoint = "16"
            try await store.updateIngestJob(job)
            let resumed = try await pipeline.run(paths: [file.path], options: options)
            #expect(resumed.job == full.job && resumed.resumedFrom == 16 && resumed.unchanged == 14 && resumed.created == 0)
            #expect(try await store.ingestJob(id: full.job)?.status == "completed")
            #expect(try await store.documents(after: nil, limit: 100, source: "notes").count == 30)
        }
    }
}
