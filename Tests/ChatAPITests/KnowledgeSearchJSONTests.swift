import Foundation
import Storage
import Testing

@testable import ChatAPI

@Suite("Search response JSON")
struct KnowledgeSearchJSONTests {
    @Test("the hand-written search response is byte for byte what the response encoder writes")
    func sameBytes() throws {
        let strings = [
            "", "plain", "quote \" and backslash \\ and slash /", "lines\nand\ttabs\r\u{8}\u{C}", "control \u{1} \u{1F} \u{7F}",
            "accents éü, CJK 会計, emoji 📈", "<script>alert('x')</script>", "'; DROP TABLE documents; --",
        ]
        let numbers: [Double] = [0, 1, -1, 0.5, 0.1 + 0.2, 1e-7, 3.4e-12, 123_456.789, 1e21, 2.5e300, -0.25, 0.7359123456789]
        var hits: [KnowledgeController.HitView] = []
        for (index, text) in strings.enumerated() {
            hits.append(
                KnowledgeController.HitView(
                    documentId: "doc-\(index)-\(text)", title: text, source: strings[(index + 1) % strings.count], passage: text + text,
                    start: index * 7, end: index * 7 + 100, score: numbers[index % numbers.count],
                    denseRank: index % 3 == 0 ? nil : index, bm25Rank: index % 2 == 0 ? nil : index + 1))
        }
        for number in numbers {
            hits.append(.init(documentId: "n", title: "t", source: "s", passage: "p", start: -3, end: Int.max, score: number, denseRank: 1, bm25Rank: 2))
        }
        for response in [
            KnowledgeController.SearchResponse(query: "q", mode: "hybrid", hits: []),
            KnowledgeController.SearchResponse(query: strings[2], mode: "bm25", hits: hits),
        ] {
            let expected = try StoredJSON.encoder.encode(response)
            #expect(String(decoding: response.json(), as: UTF8.self) == String(decoding: expected, as: UTF8.self))
        }
        // The analytics event of a search, as JSONText writes it.
        for (index, number) in numbers.enumerated() where number >= 0 {
            let sealed: String? = index % 2 == 0 ? nil : strings[index % strings.count]
            let event = KnowledgeController.SearchEvent(latencyMs: number, hits: index, queryKey: strings[(index + 3) % strings.count], querySealed: sealed)
            #expect(String(decoding: event.json(), as: UTF8.self) == StoredJSON.encode(event), "\(event)")
        }
    }
}
