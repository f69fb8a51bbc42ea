import Foundation
import Ingest
import Retrieval
import Storage
import StoreTesting
import Testing

/// A record's identity and a prune's reach come from the data, never from a file name (#26).
@Suite("Ingest identity and prune scope", .serialized)
struct IdentityTests {
    /// Coral Cloud's contacts as a Salesforce Data Loader CSV: `Id` (18-character ids with the Contact key prefix) and
    /// API names, the first `count` of them, with `change` applied to each row's values.
    static func contactsCSV(count: Int, drop: Set<Int> = [], change: (Int, inout [String: String]) -> Void = { _, _ in }) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: Samples.path("salesforce_coral_cloud/data-Contact-large.json")))
        let records = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["records"] as? [[String: Any]])
        let columns = ["Id", "FirstName", "LastName", "Email", "MailingCity", "MailingCountry", "Guest_Type__c", "LeadSource"]
        func quoted(_ value: String) -> String { "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        var lines = [columns.joined(separator: ",")]
        for (index, record) in records.prefix(count).enumerated() where !drop.contains(index) {
            var values = Dictionary(uniqueKeysWithValues: columns.map { ($0, (record[$0] as? String) ?? "") })
            values["Id"] = SalesforceID.canonical("0035g00000" + String(format: "%05d", index))
            change(index, &values)
            lines.append(columns.map { quoted(values[$0] ?? "") }.joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    static func counts(_ store: any OmnifinStore) async throws -> [Int64] {
        let jobs = try await store.ingestJobs(statuses: ["queued", "running", "completed", "failed", "interrupted", "cancelled"], limit: 10_000).count
        return [Int64(try await store.documentCount()), Int64(try await store.chunkCount()), try await store.knowledgeGeneration(), Int64(jobs)]
    }

    @Test("Salesforce ids: key prefixes name the object, 15-character ids gain their checksum")
    func salesforceIDs() {
        #expect(SalesforceID.canonical("001A0000006Vm9r") == "001A0000006Vm9rIAC")
        #expect(SalesforceID.canonical("001A0000006Vm9rIAC") == "001A0000006Vm9rIAC")
        #expect(SalesforceID.objectType(of: "0035g00000ABCDeAAF") == "Contact" && SalesforceID.objectType(of: "00Q5g00000ABCDe") == "Lead")
        #expect(SalesforceID.objectType(of: "a015g00000ABCDeAAF") == "a01")
        #expect(SalesforceID.objectType(of: "001") == nil && SalesforceID.objectType(of: "ContactRef1") == nil)
    }

    @Test("every sample export is told apart by its content, file by file")
    func detectionFileByFile() throws {
        let expected: [String: IngestFormat?] = [
            "northwind_csv": .northwindCSV, "northwind_psql": .northwindSQL, "odoo_oca_demo": .odoo, "salesforce_coral_cloud": .salesforceTree,
            "salesforce_lwc_recipes": .salesforceTree, "salesforce_minlopro_samples": .salesforceTree, "erpnext_demo_fixtures": .erpnext,
        ]
        var checked = 0
        for (folder, format) in expected {
            for name in try FileManager.default.contentsOfDirectory(atPath: Samples.path(folder)) where !name.hasPrefix("_") {
                let path = Samples.path("\(folder)/\(name)")
                let detected = IngestFormat.detect(path)
                if name == "Accounts-Contacts.csv" {
                    #expect(detected == .salesforceCSV, "\(folder)/\(name)")
                } else if folder == "erpnext_demo_fixtures", try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == "[]" {
                    #expect(detected == nil, "an empty fixture: \(folder)/\(name)")
                } else {
                    #expect(detected == format, "\(folder)/\(name)")
                }
                checked += 1
            }
        }
        #expect(checked >= 40)
        // A renamed copy is the same table.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-detect-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let renamed = directory.appendingPathComponent("carriers (1).csv").path
        try FileManager.default.copyItem(atPath: Samples.path("northwind_csv/shippers.csv"), toPath: renamed)
        #expect(IngestFormat.detect(renamed) == .northwindCSV)
        let plain = directory.appendingPathComponent("budget.csv").path
        try "Cost centre,Owner,Budget\nCC-100,Finance,25000\n".write(toFile: plain, atomically: true, encoding: .utf8)
        #expect(IngestFormat.detect(plain) == .csv)
    }

    @Test("the same contacts export under another name changes nothing; the next one updates and deletes exactly what changed",
        arguments: StoreKind.allCases)
    func reExport(kind: StoreKind) async throws {
        try await PipelineTests.withBank(kind) { bank, store, directory in
            let pipeline = IngestPipeline(bank: bank, jobs: store)
            let first = directory.appendingPathComponent("Contact-export-1.csv")
            try PipelineTests.write(try Self.contactsCSV(count: 40), to: first)
            let created = try await pipeline.run(paths: [first.path], options: .init(source: "crm", prune: true))
            #expect(created.created == 40 && created.deleted == 0 && created.skipped == 0, "\(created)")
            let contact = try #require(try await store.document(source: "crm", externalID: "salesforce:Contact:" + SalesforceID.canonical("0035g0000000001")))
            #expect(contact.metadata["type"] == "Contact")

            // The same export, saved under another name: nothing is created, deleted or embedded again.
            let renamed = directory.appendingPathComponent("contacts_2026-12-08.csv")
            try FileManager.default.moveItem(at: first, to: renamed)
            let before = try await Self.counts(store)
            let same = try await pipeline.run(paths: [renamed.path], options: .init(source: "crm", prune: true))
            #expect(same.created == 0 && same.unchanged == 40 && same.deleted == 0 && same.updated == 0, "\(same)")
            #expect(try await Self.counts(store)[0...1] == before[0...1])

            // Next week's export: three changed, two removed, under yet another name.
            let next = directory.appendingPathComponent("Contact-export-2.csv")
            try PipelineTests.write(
                try Self.contactsCSV(count: 40, drop: [5, 17]) { index, values in
                    if [1, 2, 30].contains(index) { values["MailingCity"] = "Reykjavík" }
                }, to: next)
            let changed = try await pipeline.run(paths: [next.path], options: .init(source: "crm", prune: true))
            #expect(changed.created == 0 && changed.updated == 3 && changed.unchanged == 35 && changed.deleted == 2, "\(changed)")
            #expect(changed.pruneScope == ["salesforce:Contact"])
            #expect(Set(changed.deletions.compactMap(\.externalId)) == Set([5, 17].map { "salesforce:Contact:" + SalesforceID.canonical("0035g00000" + String(format: "%05d", $0)) }))
            #expect(try await store.document(id: contact.id)?.body.contains("Reykjavík") == true, "the document keeps its id across exports")
        }
    }

    @Test("a per-object export with --prune reaches only its object types of its source")
    func pruneScope() async throws {
        try await PipelineTests.withBank(.sqlite) { bank, store, directory in
            let pipeline = IngestPipeline(bank: bank, jobs: store)
            let recipes = try await pipeline.run(paths: [Samples.path("salesforce_lwc_recipes")], options: .init(source: "salesforce"))
            #expect(recipes.created == 42, "\(recipes)")
            let other = directory.appendingPathComponent("contacts.jsonl")
            try PipelineTests.write(#"{"id": "c-1", "type": "Contact", "title": "Someone else's contact"}"#, to: other)
            _ = try await pipeline.run(paths: [other.path], options: .init(source: "helpdesk"))
            func types(_ source: String) async throws -> [String: Int] {
                try await store.documents(after: nil, limit: 1_000, source: source).reduce(into: [:]) { $0[$1.metadata["type"] ?? "", default: 0] += 1 }
            }
            let before = try await types("salesforce")
            #expect(before["Account"] ?? 0 > 0 && before["Opportunity"] ?? 0 > 0 && before["Contact"] ?? 0 > 5)

            let contacts = directory.appendingPathComponent("Contacts.csv")
            try PipelineTests.write(try Self.contactsCSV(count: 5), to: contacts)
            let pruned = try await pipeline.run(paths: [contacts.path], options: .init(source: "salesforce", prune: true))
            #expect(pruned.created == 5 && pruned.deleted == before["Contact"]!, "\(pruned)")
            let after = try await types("salesforce")
            #expect(after["Account"] == before["Account"] && after["Opportunity"] == before["Opportunity"] && after["Contact"] == 5)
            #expect(try await types("helpdesk") == ["Contact": 1])
        }
    }

    @Test("a prune above its limit stops before writing anything; --max-delete and --force let it through")
    func pruneGuard() async throws {
        try await PipelineTests.withBank(.sqlite) { bank, store, directory in
            let pipeline = IngestPipeline(bank: bank, jobs: store)
            let file = directory.appendingPathComponent("contacts.csv")
            try PipelineTests.write(try Self.contactsCSV(count: 30), to: file)
            _ = try await pipeline.run(paths: [file.path], options: .init(source: "crm"))
            // An export cut short: 4 of 30 contacts, one of them changed. Deleting 26 is above a limit of 10.
            try PipelineTests.write(
                try Self.contactsCSV(count: 4) { index, values in if index == 0 { values["LastName"] = "Changed" } }, to: file)
            let before = try await Self.counts(store)
            var options = IngestPipeline.Options(source: "crm", prune: true)
            options.maxDelete = 10
            let stop = try await #require(throws: PruneLimitExceeded.self) { try await pipeline.run(paths: [file.path], options: options) }
            #expect(stop.summary.deleted == 26 && stop.summary.deletions.count == 26 && stop.reach == 30 && stop.summary.deleteLimit == 10)
            #expect(stop.description.contains("would delete 26 of the 30 documents") && stop.description.contains("nothing was written"))
            #expect(try await Self.counts(store) == before, "nothing written: not the changed contact, not a job")
            // The default limit is 100 here (10 % of 30 is less): the same prune goes through.
            #expect(IngestPipeline.defaultDeleteLimit(reach: 30) == 100 && IngestPipeline.defaultDeleteLimit(reach: 5_000) == 500)
            options.maxDelete = nil
            options.force = true
            let forced = try await pipeline.run(paths: [file.path], options: options)
            #expect(forced.deleted == 26 && forced.updated == 1 && forced.unchanged == 3 && forced.deleteLimit == nil)
            #expect(try await store.documentCount() == 4)
        }
    }

    @Test("--dry-run counts what a run would do and writes nothing")
    func dryRun() async throws {
        try await PipelineTests.withBank(.postgres) { bank, store, directory in
            let pipeline = IngestPipeline(bank: bank, jobs: store)
            let file = directory.appendingPathComponent("contacts.csv")
            try PipelineTests.write(try Self.contactsCSV(count: 12), to: file)
            _ = try await pipeline.run(paths: [file.path], options: .init(source: "crm"))
            try PipelineTests.write(
                try Self.contactsCSV(count: 14, drop: [3]) { index, values in if index == 7 { values["Email"] = "new@example.com" } }, to: file)
            let before = try await Self.counts(store)
            var options = IngestPipeline.Options(source: "crm", prune: true)
            options.dryRun = true
            let preview = try await pipeline.run(paths: [file.path], options: options)
            #expect(preview.dryRun && preview.created == 2 && preview.updated == 1 && preview.unchanged == 10 && preview.deleted == 1, "\(preview)")
            #expect(try await Self.counts(store) == before)
            options.dryRun = false
            let real = try await pipeline.run(paths: [file.path], options: options)
            let counts: (IngestSummary) -> [Int] = { [$0.created, $0.updated, $0.unchanged, $0.deleted] }
            #expect(counts(real) == counts(preview))
        }
    }

    @Test("one Northwind table on its own, under any name, keeps its records' identity")
    func northwindTable() async throws {
        try await PipelineTests.withBank(.sqlite) { bank, store, directory in
            let pipeline = IngestPipeline(bank: bank, jobs: store)
            let first = try await pipeline.run(paths: [Samples.path("northwind_csv/shippers.csv")], options: .init())
            #expect(first.created == 3 && first.source == "northwind", "\(first)")
            #expect(try await store.document(source: "northwind", externalID: "northwind:Shipper:1")?.title == "Speedy Express")
            let renamed = directory.appendingPathComponent("carriers.csv")
            try FileManager.default.copyItem(atPath: Samples.path("northwind_csv/shippers.csv"), toPath: renamed.path)
            let again = try await pipeline.run(paths: [renamed.path], options: .init())
            #expect(again.unchanged == 3 && again.created == 0)
            // A table that only adds to other documents says so instead of reading nothing in silence.
            let regions = try await pipeline.run(paths: [Samples.path("northwind_csv/regions.csv")], options: .init())
            #expect(regions.read == 0 && regions.errors.first?.message.contains("no documents of its own") == true, "\(regions.errors)")
        }
    }
}
