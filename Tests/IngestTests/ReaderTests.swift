import Foundation
import Ingest
import Retrieval
import Testing

/// The real exports in ../shared/data/crm_erp (see its README).
enum Samples {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/data/crm_erp")

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    static func read(_ relative: String) -> ReadResult {
        var result = ReadResult()
        for (path, format) in IngestPipeline.inputs([path(relative)]) {
            let (read, _) = IngestPipeline.read(path, format: format, type: nil)
            result.records += read.records
            result.issues += read.issues
        }
        return result
    }

    static func count(_ result: ReadResult) -> [String: Int] {
        result.records.reduce(into: [:]) { $0[$1.type, default: 0] += 1 }
    }

    static func body(_ record: SourceRecord) -> String { record.document(source: "test").body }
}

@Suite("Export readers on the real samples")
struct ReaderTests {
    @Test("Salesforce data-tree: plans, references resolved to names, HTML articles as text")
    func salesforceTree() throws {
        let coral = Samples.read("salesforce_coral_cloud")
        // Two plans cover the same objects; the first by name (the large export) is read.
        #expect(Samples.count(coral) == ["Contact": 992, "Experience__c": 54, "Guest_Review__c": 10, "Case": 2] && coral.issues.isEmpty)
        let rafting = try #require(coral.records.first { $0.type == "Case" && $0.title.hasPrefix("Urgent: Cancellation of White Water") })
        #expect(Samples.body(rafting).contains("Contact: Sofia Rodriguez") && Samples.body(rafting).contains("Priority: High"))
        #expect(rafting.key == "salesforce:Case:CaseRef1")

        let minlopro = Samples.read("salesforce_minlopro_samples")
        #expect(Samples.count(minlopro)["Knowledge__kav"] == 8 && Samples.count(minlopro)["Account"] == 50 && minlopro.records.count == 230)
        let article = try #require(minlopro.records.first { $0.title == "Apex Trigger vs Flow Considerations" })
        #expect(article.text.contains("When deciding whether to implement an Apex Trigger") && !article.text.contains("<p>"))

        let recipes = Samples.read("salesforce_lwc_recipes")
        let opportunity = try #require(recipes.records.first { $0.title == "Cloud Platform Expansion" })
        // A contact is named by its name; its Title is the job.
        let amy = try #require(recipes.records.first { $0.key == "salesforce:Contact:ContactRef1" })
        #expect(amy.title == "Amy Taylor" && Samples.body(amy).contains("Title: VP of Engineering"), "\(amy.title)")
        #expect(Samples.body(opportunity).contains("Amount: 125000") && Samples.body(opportunity).contains("Account: "))
        // The report CSV has rows cut short: each is reported with its line and skipped.
        #expect(recipes.issues.count == 8 && recipes.issues.allSatisfy { $0.file == "Accounts-Contacts.csv" && $0.line != nil })
        let contactRow = try #require(recipes.records.first { $0.type == "Account+Contact" })
        #expect(Samples.body(contactRow).contains("Account name: Alpha Dynamics") || contactRow.title.contains("Alpha Dynamics"))
    }

    @Test("ERPNext fixtures: doctype and name, Frappe bookkeeping dropped, records without a name reported")
    func erpnext() throws {
        let result = Samples.read("erpnext_demo_fixtures")
        #expect(result.records.count == 193 && Samples.count(result)["Customer"] == 20 && Samples.count(result)["Lead"] == 25)
        #expect(result.issues.count == 3 && result.issues.allSatisfy { $0.file == "Account.json" && $0.reason.contains("has no name") })
        let customer = try #require(result.records.first { $0.type == "Customer" && $0.id == "Asian Junction" })
        let body = Samples.body(customer)
        #expect(body.contains("Customer group: Commercial") && !body.contains("docstatus") && !body.contains("None") && !body.contains("Naming"))
    }

    @Test("Odoo XML: records by id, eval literals, references by name, technical records left out")
    func odoo() throws {
        let result = Samples.read("odoo_oca_demo")
        #expect(result.records.count == 20 && result.issues.isEmpty)
        let ticket = try #require(result.records.first { $0.title == "Problem with the delivery of goods" })
        #expect(ticket.type == "helpdesk.ticket" && Samples.body(ticket).contains("Team: Helpdesk"))
        #expect(Samples.count(result)["document.page"] != nil)
    }

    @Test("Northwind: an order with its customer, employee, shipper and priced lines; CSV and SQL dump agree")
    func northwind() throws {
        let dump = Samples.read("northwind_psql/northwind.sql")
        #expect(Samples.count(dump) == ["Order": 830, "Customer": 91, "Product": 77, "Supplier": 29, "Employee": 9, "Category": 8, "Shipper": 6])
        #expect(dump.issues.isEmpty)
        let order = try #require(dump.records.first { $0.key == "northwind:Order:10248" })
        let body = Samples.body(order)
        #expect(order.title == "Order 10248 — Vins et alcools Chevalier")
        #expect(body.contains("Employee: Steven Buchanan") && body.contains("Shipped via: Federal Shipping"))
        #expect(body.contains("- Queso Cabrales: 12 × 14.00 = 168.00") && body.contains("Order total: 440.00"))
        let csv = Samples.read("northwind_csv")
        let csvOrder = try #require(csv.records.first { $0.key == "northwind:Order:10248" })
        #expect(Samples.body(csvOrder) == body)
        // The CSV has unquoted commas in some addresses: those rows are reported, the rest goes in.
        #expect(csv.issues.contains { $0.file == "orders.csv" && $0.line == 114 && $0.reason == "the row has 15 fields where the header has 14" })
        #expect(Samples.count(csv)["Order"]! + csv.issues.filter { $0.file == "orders.csv" }.count == 830)
    }

    @Test("formats are told from the content, not the name")
    func detection() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-detect-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func file(_ text: String) throws -> String {
            let path = directory.appendingPathComponent(UUID().uuidString + ".dat").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        #expect(IngestFormat.detect(try file(#"{"records": [{"attributes": {"type": "Case"}}]}"#)) == .salesforceTree)
        #expect(IngestFormat.detect(try file(#"[{"doctype": "Customer", "name": "A"}]"#)) == .erpnext)
        #expect(IngestFormat.detect(try file("<?xml version=\"1.0\"?>\n<odoo><record id=\"a\" model=\"m\"/></odoo>")) == .odoo)
        #expect(IngestFormat.detect(try file("<!DOCTYPE html><html><body>x</body></html>")) == .html)
        #expect(IngestFormat.detect(try file("{\"id\": 1}\n{\"id\": 2}\n")) == .jsonLines)
        #expect(IngestFormat.detect(try file("Id,Name\n001A0000006Vm9rIAC,Acme\n")) == .salesforceCSV)
        #expect(IngestFormat.detect(try file("Id,Name\n7,Acme\n")) == .csv)
        #expect(IngestFormat.detect(try file("\u{FEFF}Account: Account Name,Contact: Last Name\nAcme,Ng\n")) == .salesforceCSV)
        #expect(IngestFormat.detect(try file("---\ntitle: x\n---\nbody")) == .markdown)
        #expect(IngestFormat.detect(try file("CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);")) == .northwindSQL)
        #expect(IngestFormat.detect(Samples.path("northwind_csv")) == .northwindCSV)
        #expect(HTMLText.plain("<h1>Title</h1><script>alert(1)</script><p>A &amp; B<br>C</p><ul><li>one</li></ul>") == "Title\n\nA & B\nC\n\n- one")
        #expect(FieldLabel.readable("MailingCity") == "Mailing city" && FieldLabel.readable("Guest_Type__c") == "Guest type")
        #expect(FieldLabel.readable("orderID") == "Order ID" && FieldLabel.readable("customer_name") == "Customer name")
    }

    @Test("an Odoo file that is not UTF-8 is reported, not parsed (Foundation's XML parser traps on such names)")
    func odooNotUTF8() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-odoo-\(UUID().uuidString).xml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        // The input libFuzzer found: an element name with a byte that is not UTF-8.
        FileManager.default.createFile(atPath: path, contents: Data([0x3C, 0xFF, 0x63, 0x65, 0x64]))
        let result = OdooReader.read(path)
        #expect(result.records.isEmpty)
        #expect(result.issues.first?.reason.contains("UTF-8") == true, "\(result.issues)")
    }
}
