import Foundation
import Index
import Testing
@testable import Retrieval

@Suite("Built-in MiniLM embedder")
struct BuiltinEmbedderTests {
    @Test("the tokenizer gives the reference ids for every reference text")
    func tokenIDs() throws {
        let embedder = try TestModel.load()
        let lines = try String(contentsOf: TestModel.fixture("minilm-token-ids.jsonl"), encoding: .utf8).split(separator: "\n")
        let texts = TestModel.referenceTexts
        #expect(texts.count == 999)
        #expect(lines.count == texts.count)
        var mismatches = 0
        for (i, (text, line)) in zip(texts, lines).enumerated() {
            let expected = (try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any])["ids"] as! [Int]
            let got = embedder.tokenizer.encode(text).map(Int.init)
            if got != expected {
                mismatches += 1
                if mismatches <= 5 { Issue.record("text \(i + 1) \(text.prefix(80).debugDescription): got \(got.prefix(40)), expected \(expected.prefix(40))") }
            }
        }
        #expect(mismatches == 0)
    }

    @Test("every reference text embeds within cosine 0.9999 of sentence-transformers")
    func matchesReference() throws {
        let embedder = try TestModel.load()
        let texts = TestModel.referenceTexts
        let reference = try VectorFile.readFloatVectors(at: TestModel.referenceDirectory + "/vectors.fvecs")
        #expect(reference.count == texts.count && reference.dimension == 384)
        let (vectors, _) = embedder.embedFlat(texts)
        var worst: (Float, Int) = (1, -1)
        for i in 0..<texts.count {
            var dot: Float = 0
            for j in 0..<384 { dot += vectors[i * 384 + j] * reference.values[i * 384 + j] }
            if dot < worst.0 { worst = (dot, i) }
        }
        #expect(worst.0 >= 0.9999, "text \(worst.1 + 1) has cosine \(worst.0)")
    }

    @Test("the order and batching of texts do not change their vectors")
    func batchingIsInvisible() throws {
        let embedder = try TestModel.load()
        let texts = ["What is the approval limit for invoices?", "", "Month-end close checklist", String(repeating: "ledger ", count: 400)]
        let together = embedder.embedSynchronously(texts)
        for (i, text) in texts.enumerated() {
            let alone = embedder.embedSynchronously([text])[0]
            let cosine = zip(alone, together[i]).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            #expect(cosine > 0.99999)
            #expect(abs(alone.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4)
        }
    }

    @Test("truncation keeps 256 tokens, and literal special tokens are special")
    func tokenizerEdges() throws {
        let tokenizer = try TestModel.load().tokenizer
        let long = tokenizer.encode(String(repeating: "invoice ", count: 1000))
        #expect(long.count == 256 && long.first == tokenizer.classifierID && long.last == tokenizer.separatorID)
        #expect(tokenizer.encode("") == [tokenizer.classifierID, tokenizer.separatorID])
        #expect(tokenizer.encode("a [SEP] b").filter { $0 == tokenizer.separatorID }.count == 2)
        #expect(tokenizer.tokens("Café naïve RÉSUMÉ") == ["cafe", "naive", "resume"])
        // Lower-casing is per character, with no final-sigma rule; control characters vanish without splitting.
        #expect(tokenizer.encode("ΟΔΟΣ") == tokenizer.encode("οδοσ"))
        #expect(tokenizer.encode("a\u{85}b") == tokenizer.encode("ab"))
        #expect(tokenizer.encode("foo[SEP]bar") == tokenizer.encode("foo").dropLast() + [tokenizer.separatorID] + tokenizer.encode("bar").dropFirst())
        #expect(tokenizer.tokens("VAT: 20%, €1,000.50") == ["va", "##t", ":", "20", "%", ",", "€", "##1", ",", "000", ".", "50"])
    }
}
