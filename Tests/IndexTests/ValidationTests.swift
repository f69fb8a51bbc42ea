import Testing
@testable import Index

@Suite("Bad input gets a clear error")
struct ValidationTests {
    func expectError(_ code: IndexError.Code, mentioning words: String? = nil, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected \(code)")
        } catch let error as IndexError {
            #expect(error.code == code, "\(error)")
            if let words { #expect(error.message.contains(words), "\(error.message)") }
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("the HNSW index rejects bad vectors, ids and parameters")
    func hnsw() throws {
        let index = try HNSWIndex(configuration: HNSWConfiguration(dimension: 3))
        try index.add([1, 2, 3], id: 1)
        expectError(.dimensionMismatch, mentioning: "2 components") { try index.add([1, 2], id: 2) }
        expectError(.dimensionMismatch) { _ = try index.search([1, 2, 3, 4], k: 1) }
        expectError(.nonFiniteComponent, mentioning: "component 1") { try index.add([1, .nan, 3], id: 2) }
        expectError(.nonFiniteComponent) { try index.add([1, .infinity, 3], id: 2) }
        expectError(.nonFiniteComponent) { _ = try index.search([.nan, 0, 0], k: 1) }
        expectError(.zeroVector) { try index.add([0, 0, 0], id: 2) }
        expectError(.zeroVector) { _ = try index.search([0, 0, 0], k: 1) }
        expectError(.duplicateID, mentioning: "update") { try index.add([3, 2, 1], id: 1) }
        expectError(.duplicateID, mentioning: "twice") { try index.add(contentsOf: [1, 1, 1, 2, 2, 2], ids: [5, 5]) }
        expectError(.unknownID) { try index.remove(id: 99) }
        expectError(.unknownID) { try index.update([1, 1, 1], id: 99) }
        expectError(.dimensionMismatch) { try index.update([1, 2], id: 1) }
        expectError(.dimensionMismatch) { try index.update([], id: 1) }
        expectError(.dimensionMismatch) { try index.update([1, 2, 3, 4], id: 1) }
        #expect(index.count == 1 && index.contains(id: 1))
        expectError(.invalidParameter, mentioning: "k must be") { _ = try index.search([1, 0, 0], k: 0) }
        expectError(.invalidParameter) { _ = try index.search([1, 0, 0], k: -3) }
        expectError(.invalidParameter, mentioning: "ef") { _ = try index.search([1, 0, 0], k: 1, ef: 0) }
        expectError(.invalidParameter, mentioning: "threads") { try index.add(contentsOf: [1, 1, 1], ids: [9], threads: 0) }
        expectError(.invalidParameter, mentioning: "m must") { _ = try HNSWIndex(configuration: HNSWConfiguration(dimension: 3, m: 1)) }
        expectError(.invalidParameter, mentioning: "dimension") { _ = try HNSWIndex(configuration: HNSWConfiguration(dimension: 0)) }
        // A batch with one bad row adds nothing and names the row.
        expectError(.nonFiniteComponent, mentioning: "row 1") { try index.add(contentsOf: [1, 1, 1, .nan, 0, 0], ids: [7, 8]) }
        #expect(index.count == 1)
        // Zero vectors are fine where they have a meaning.
        let l2 = try HNSWIndex(configuration: HNSWConfiguration(dimension: 2, metric: .l2))
        try l2.add([0, 0], id: 1)
        #expect(try l2.search([0, 0], k: 1).first?.id == 1)
    }

    @Test("the flat index rejects the same mistakes")
    func flat() throws {
        let index = try FlatIndex(dimension: 2)
        try index.add([1, 0], id: 1)
        expectError(.dimensionMismatch) { try index.add([1, 0, 0], id: 2) }
        expectError(.zeroVector) { try index.add([0, 0], id: 2) }
        expectError(.duplicateID) { try index.add([0, 1], id: 1) }
        expectError(.unknownID) { try index.remove(id: 3) }
        expectError(.invalidParameter) { _ = try index.search([1, 0], k: 0) }
        expectError(.dimensionMismatch) { _ = try index.search(batch: [1, 0, 1], k: 1) }
        expectError(.dimensionMismatch) { _ = try index.search([1, 0, 0, 0], k: 1) }
        expectError(.dimensionMismatch) { _ = try index.search([1], k: 1) }
        expectError(.dimensionMismatch) { try index.update([1], id: 1) }
        #expect(try index.search([1, 0], k: Int.max).count == 1)
    }
}
