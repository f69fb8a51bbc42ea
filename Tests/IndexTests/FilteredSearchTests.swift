import Testing
@testable import Index

@Suite("Filtered search")
struct FilteredSearchTests {
    let dimension = 24
    let count = 6000

    func fixture() throws -> (HNSWIndex, FlatIndex, [Float]) {
        let data = TestData.clustered(count: count + 50, dimension: dimension, seed: 11)
        let base = Array(data[0..<count * dimension])
        let ids = (0..<count).map(UInt64.init)
        let hnsw = try HNSWIndex(configuration: HNSWConfiguration(dimension: dimension, m: 12, efConstruction: 100))
        try hnsw.add(contentsOf: base, ids: ids, threads: 2)
        let flat = try FlatIndex(dimension: dimension)
        try flat.add(contentsOf: base, ids: ids)
        return (hnsw, flat, data)
    }

    func measure(_ filter: SearchFilter, allowed: (UInt64) -> Bool) throws -> Double {
        let (hnsw, flat, data) = try fixture()
        var found = [[SearchResult]]()
        var truth = [[SearchResult]]()
        for q in 0..<50 {
            let query = TestData.row(data, count + q, dimension: dimension)
            let hits = try hnsw.search(query, k: 10, ef: 64, filter: filter)
            #expect(hits.allSatisfy { allowed($0.id) }, "a filtered search returned an id the filter rejects")
            found.append(hits)
            truth.append(try flat.search(query, k: 10, filter: filter))
        }
        return TestData.recall(found, truth, k: 10)
    }

    @Test("an allow-list passing 2% keeps recall")
    func sparseAllowList() throws {
        let allowed = Set((0..<UInt64(count)).filter { $0 % 50 == 3 })
        let recall = try measure(.allowList(allowed)) { allowed.contains($0) }
        #expect(recall >= 0.99, "recall \(recall)")
    }

    @Test("a predicate passing 3% keeps recall")
    func sparsePredicate() throws {
        let recall = try measure(.predicate { $0 % 33 == 0 }) { $0 % 33 == 0 }
        #expect(recall >= 0.99, "recall \(recall)")
    }

    @Test("a filter passing half the vectors walks the graph and keeps recall")
    func broadFilter() throws {
        let allowed = Set((0..<UInt64(count)).filter { $0 % 2 == 0 })
        #expect(try measure(.allowList(allowed)) { allowed.contains($0) } >= 0.93)
        #expect(try measure(.predicate { $0 % 2 == 1 }) { $0 % 2 == 1 } >= 0.93)
    }

    @Test("unknown and deleted ids in an allow-list are ignored")
    func allowListEdgeCases() throws {
        let (hnsw, _, data) = try fixture()
        try hnsw.remove(id: 5)
        let hits = try hnsw.search(TestData.row(data, 5, dimension: dimension), k: 10, filter: .allowList([5, 6, 999_999]))
        #expect(hits.map(\.id) == [6])
        #expect(try hnsw.search(TestData.row(data, 5, dimension: dimension), k: 3, filter: .allowList([])).isEmpty)
    }
}
