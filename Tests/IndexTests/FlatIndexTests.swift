import Testing
@testable import Index

@Suite("Exact flat index")
struct FlatIndexTests {
    @Test("batch search (sgemm) equals one-by-one search (sgemv) and brute force", arguments: Metric.allCases)
    func batchMatchesSingle(metric: Metric) throws {
        let d = 20
        let data = TestData.clustered(count: 5000, dimension: d, seed: 12)
        let index = try FlatIndex(dimension: d, metric: metric)
        try index.add(contentsOf: Array(data[0..<4900 * d]), ids: (0..<4900).map(UInt64.init))
        let queries = Array(data[4900 * d..<5000 * d])
        let batch = try index.search(batch: queries, k: 7)
        for q in 0..<100 {
            let query = TestData.row(queries, q, dimension: d)
            let single = try index.search(query, k: 7)
            #expect(batch[q].map(\.id) == single.map(\.id))
            // Brute force in plain Swift.
            func norm(_ v: [Float]) -> [Float] {
                let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
                return metric == .cosine ? v.map { $0 / n } : v
            }
            let qv = norm(query)
            let expected = (0..<4900).map { i -> (UInt64, Float) in
                let v = norm(TestData.row(data, i, dimension: d))
                let dot = zip(qv, v).reduce(0) { $0 + $1.0 * $1.1 }
                let dist: Float =
                    metric == .l2 ? zip(qv, v).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } : 1 - dot
                return (UInt64(i), dist)
            }.sorted { $0.1 < $1.1 }.prefix(7)
            #expect(single.map(\.id) == expected.map(\.0))
        }
    }

    @Test("remove and update keep rows consistent")
    func removeAndUpdate() throws {
        let index = try FlatIndex(dimension: 2, metric: .l2)
        try index.add(contentsOf: [0, 0, 1, 0, 2, 0, 3, 0], ids: [10, 11, 12, 13])
        try index.remove(id: 11)
        #expect(index.count == 3)
        #expect(try index.search([1, 0], k: 3).map(\.id) == [10, 12, 13])
        try index.update([1, 0.1], id: 13)
        #expect(try index.search([1, 0], k: 1).map(\.id) == [13])
        #expect(try index.search([1.5, 0], k: 2, filter: .predicate { $0 != 13 }).map(\.id) == [12, 10])
    }
}
