import Foundation
import Testing

@Suite("omnifin eval")
struct EvalCommandTests {
    static func writeDataset(to directory: URL) throws {
        let corpus: [(String, String, String)] = [
            ("d1", "Invoice approval", "Supplier invoices above the limit need a second approval by the controller."),
            ("d2", "Travel expenses", "Submit expense reports within thirty days and attach every receipt."),
            ("d3", "Payment runs", "Payment runs happen every Tuesday and Friday for approved invoices."),
            ("d4", "Fixed assets", "Assets are depreciated straight-line over their useful life."),
            ("d5", "Bank reconciliation", "Bank statements are reconciled against the ledger each month."),
        ]
        let queries = [("q1", "who approves large supplier invoices"), ("q2", "deadline for expense reports"), ("q3", "depreciation method for assets"),
                       ("q-unjudged", "ignored")]
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("qrels"), withIntermediateDirectories: true)
        func json(_ object: [String: String]) throws -> String { String(decoding: try JSONSerialization.data(withJSONObject: object, options: .sortedKeys), as: UTF8.self) }
        try corpus.map { try json(["_id": $0.0, "title": $0.1, "text": $0.2]) }.joined(separator: "\n")
            .write(to: directory.appendingPathComponent("corpus.jsonl"), atomically: true, encoding: .utf8)
        try queries.map { try json(["_id": $0.0, "text": $0.1]) }.joined(separator: "\n")
            .write(to: directory.appendingPathComponent("queries.jsonl"), atomically: true, encoding: .utf8)
        try "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq3\td4\t1\n"
            .write(to: directory.appendingPathComponent("qrels/test.tsv"), atomically: true, encoding: .utf8)
    }

    @Test("prints the three measures per mode as JSON")
    func json() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-eval-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.writeDataset(to: directory)
        let result = try CLI.run(["eval", "--beir", directory.path, "--mode", "all", "--json", "--cache-directory", directory.appendingPathComponent("cache").path])
        #expect(result.status == 0, "\(result.error)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: [String: Double]])
        #expect(Set(object.keys) == ["dense", "dense_exact", "bm25", "hybrid"])
        for (mode, scores) in object {
            #expect(scores["queries"] == 3, "\(mode)")
            for key in ["ndcg_at_10", "recall_at_100", "mrr_at_10"] { #expect((0...1).contains(scores[key] ?? -1), "\(mode) \(key)") }
            #expect(scores["recall_at_100"] == 1, "\(mode): five documents, all retrieved")
        }
        #expect(object["bm25"]?["mrr_at_10"] == 1 && object["hybrid"]?["ndcg_at_10"] == 1)

        // The second run reads every embedding from the cache.
        let again = try CLI.run(["eval", "--beir", directory.path, "--mode", "dense", "--cache-directory", directory.appendingPathComponent("cache").path])
        #expect(again.status == 0 && again.error.contains(" 0 embedded"), "\(again.error)")
        #expect(again.output.contains("nDCG@10") && again.output.contains("dense_exact"))
    }

    @Test("a folder that is not a BEIR dataset is refused with the missing file named")
    func badInput() throws {
        let result = try CLI.run(["eval", "--beir", "/nonexistent/scifact"])
        #expect(result.status != 0)
        #expect(result.error.contains("corpus.jsonl"))
        let mode = try CLI.run(["eval", "--beir", "/tmp", "--mode", "sparse"])
        #expect(mode.status != 0 && mode.error.contains("--mode must be"))
    }
}
