import Ingest
import Retrieval
import Testing

@Suite("Markdown with front matter")
struct MarkdownReaderTests {
    @Test("front matter gives title, tags and metadata; the heading is not repeated in the body")
    func frontMatter() throws {
        let text = """
            ---
            title: "Invoice approval policy"
            tags: [accounts-payable, 'approvals']
            owner: Accounts Payable   # the team that answers questions
            updated: 2026-09-15
            ---
            # Invoice approval policy

            Invoices up to 10,000 EUR are approved by the budget owner.
            """
        let document = try MarkdownReader.document(text, name: "invoice-approval.md", source: "corpora")
        #expect(document.title == "Invoice approval policy")
        #expect(document.body == "Invoices up to 10,000 EUR are approved by the budget owner.")
        #expect(document.metadata == ["tags": "accounts-payable,approvals", "owner": "Accounts Payable", "updated": "2026-09-15"])
        #expect(document.externalID == "invoice-approval.md" && document.source == "corpora")
    }

    @Test("without front matter: the first heading, else the file name, is the title")
    func fallbacks() throws {
        let heading = try MarkdownReader.document("# Petty cash\n\nUp to 200 EUR.", name: "petty.md", source: "s")
        #expect(heading.title == "Petty cash" && heading.body == "Up to 200 EUR.")
        let plain = try MarkdownReader.document("Just text.", name: "vat-basics.txt", source: "s")
        #expect(plain.title == "vat basics" && plain.body == "Just text.")
    }

    @Test("an unclosed or nested front matter is reported with its line")
    func errors() {
        #expect(throws: IngestIssue(file: "a.md", line: 1, reason: "the front matter that starts here is never closed by a '---' line")) {
            try MarkdownReader.document("---\ntitle: x\n\nbody", name: "a.md", source: "s")
        }
        #expect(throws: IngestIssue(file: "b.md", line: 3, reason: "front matter lines must be 'key: value' (nested YAML is not supported)")) {
            try MarkdownReader.document("---\nowner:\n  name: AP\n---\nbody", name: "b.md", source: "s")
        }
    }
}
