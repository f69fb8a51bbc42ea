import Testing
@testable import Index

@Suite("HNSW recall against exact search")
struct HNSWRecallTests {
    static let dimension = 32

    /// Builds both indexes over the same clustered vectors and returns HNSW and exact results for held-out queries.
    func compare(metric: Metric, count: Int = 3000, queries: Int = 100, ef: Int = 64, threads: Int = 1) throws -> Double {
        let d = Self.dimension
        let data = TestData.clustered(count: count + queries, dimension: d)
        let base = Array(data[0..<count * d])
        let ids = (0..<count).map { UInt64($0) * 3 + 1 }
        let hnsw = try HNSWIndex(configuration: HNSWConfiguration(dimension: d, metric: metric, m: 12, efConstruction: 100))
        try hnsw.add(contentsOf: base, ids: ids, threads: threads)
        let flat = try FlatIndex(dimension: d, metric: metric)
        try flat.add(contentsOf: base, ids: ids)
        #expect(hnsw.count == count)
        #expect(hnsw.invariantViolations() == [])
        var found = [[SearchResult]]()
        var truth = [[SearchResult]]()
        for q in 0..<queries {
            let query = TestData.row(data, count + q, dimension: d)
            found.append(try hnsw.search(query, k: 10, ef: ef))
            truth.append(try flat.search(query, k: 10))
        }
        // Distances reported by both indexes agree for the ids they share.
        for (f, t) in zip(found, truth) {
            let exact = Dictionary(uniqueKeysWithValues: t.map { ($0.id, $0.distance) })
            for hit in f { if let d = exact[hit.id] { #expect(abs(d - hit.distance) < 1e-3) } }
            #expect(f.map(\.distance) == f.map(\.distance).sorted())
        }
        return TestData.recall(found, truth, k: 10)
    }

    @Test("every metric reaches high recall", arguments: Metric.allCases)
    func recallPerMetric(metric: Metric) throws {
        let recall = try compare(metric: metric)
        #expect(recall >= 0.95, "recall@10 \(recall) under \(metric)")
    }

    @Test("a multi-threaded build is as good as a single-threaded one")
    func parallelBuild() throws {
        let recall = try compare(metric: .cosine, threads: 2)
        #expect(recall >= 0.95)
    }

    @Test("recall on real MiniLM embeddings")
    func realVectors() throws {
        let base = try VectorFile.readFloatVectors(at: TestData.annDirectory + "/base.fvecs", limit: 5000)
        let queries = try VectorFile.readFloatVectors(at: TestData.annDirectory + "/query.fvecs", limit: 100)
        let ids = (0..<base.count).map(UInt64.init)
        let hnsw = try HNSWIndex(configuration: HNSWConfiguration(dimension: base.dimension))
        try hnsw.add(contentsOf: base.values, ids: ids, threads: 2)
        let flat = try FlatIndex(dimension: base.dimension)
        try flat.add(contentsOf: base.values, ids: ids)
        let truth = try flat.search(batch: queries.values, k: 10)
        let found = try (0..<queries.count).map { q in try hnsw.search(TestData.row(queries.values, q, dimension: 384), k: 10, ef: 80) }
        let recall = TestData.recall(found, truth, k: 10)
        #expect(recall >= 0.97, "recall@10 \(recall)")
        #expect(hnsw.invariantViolations() == [])
    }

    @Test("every neighbour-scoring kernel walks to the same neighbours")
    func kernelsAgree() throws {
        let d = 40
        let data = TestData.clustered(count: 2100, dimension: d, seed: 17)
        let index = try HNSWIndex(configuration: HNSWConfiguration(dimension: d, m: 10, efConstruction: 80))
        try index.add(contentsOf: Array(data[0..<2000 * d]), ids: (0..<2000).map(UInt64.init))
        var answers = [DistanceKernel: [[UInt64]]]()
        for kernel in DistanceKernel.allCases {
            index.kernel = kernel
            answers[kernel] = try (2000..<2100).map { q in try index.search(TestData.row(data, q, dimension: d), k: 10).map(\.id) }
        }
        // Float rounding differs between kernels, so allow a rare tie to break the other way.
        let reference = answers[.blasDot]!
        for kernel in DistanceKernel.allCases {
            let same = zip(reference, answers[kernel]!).filter { $0 == $1 }.count
            #expect(same >= 97, "\(kernel) agreed on \(same) of 100 queries")
        }
    }

    @Test("the same seed builds the same graph")
    func reproducible() throws {
        let d = 16
        let data = TestData.clustered(count: 500, dimension: d, seed: 3)
        func build() throws -> HNSWIndex {
            let index = try HNSWIndex(configuration: HNSWConfiguration(dimension: d, m: 8, efConstruction: 50, seed: 99))
            try index.add(contentsOf: data, ids: (0..<500).map(UInt64.init))
            return index
        }
        let a = try build()
        let b = try build()
        for q in 0..<20 {
            let query = TestData.row(data, q * 7, dimension: d)
            #expect(try a.search(query, k: 5).map(\.id) == b.search(query, k: 5).map(\.id))
        }
    }

    @Test("a vector finds itself first, and scores follow the metric")
    func selfMatch() throws {
        let index = try HNSWIndex(configuration: HNSWConfiguration(dimension: 3, metric: .l2, m: 4))
        try index.add([0, 0, 0], id: 1)
        try index.add([3, 4, 0], id: 2)
        try index.add([1, 0, 0], id: 3)
        let hits = try index.search([3, 4, 0], k: 3)
        #expect(hits.map(\.id) == [2, 3, 1])
        #expect(hits[0].distance == 0)
        #expect(abs(hits[2].distance - 25) < 1e-4)
        #expect(abs(hits[2].score + 5) < 1e-4)

        let cosine = try HNSWIndex(configuration: HNSWConfiguration(dimension: 2, metric: .cosine))
        try cosine.add([10, 0], id: 1)
        try cosine.add([0, 3], id: 2)
        let top = try cosine.search([1, 1], k: 2)
        #expect(abs(top[0].score - 0.70710677) < 1e-5)
        #expect(cosine.vector(id: 1) == [1, 0])
    }

    @Test("an empty index answers with nothing, and k larger than the index returns everything")
    func smallIndexes() throws {
        let index = try HNSWIndex(configuration: HNSWConfiguration(dimension: 4))
        #expect(try index.search([1, 0, 0, 0], k: 5).isEmpty)
        try index.add([1, 0, 0, 0], id: 7)
        try index.add([0, 1, 0, 0], id: 8)
        #expect(try index.search([1, 0, 0, 0], k: 50).map(\.id) == [7, 8])
    }

    @Test("the index grows past its initial capacity")
    func growth() throws {
        let d = 8
        let data = TestData.clustered(count: 300, dimension: d)
        let index = try HNSWIndex(configuration: HNSWConfiguration(dimension: d, m: 6), capacity: 16)
        for i in 0..<300 { try index.add(TestData.row(data, i, dimension: d), id: UInt64(i)) }
        #expect(index.count == 300)
        #expect(try index.search(TestData.row(data, 123, dimension: d), k: 1).first?.id == 123)
        #expect(index.invariantViolations() == [])
        #expect(index.memoryBytes >= index.payloadBytes)
    }
}
