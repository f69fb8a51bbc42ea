import Testing
@testable import Index

@Suite("Deletes, updates and graph repair")
struct DeleteTests {
    let dimension = 24

    @Test("recall holds after deleting most of the graph in rounds, and slots are reused")
    func manyDeletes() throws {
        let total = 4000
        let data = TestData.clustered(count: total + 50, dimension: dimension, seed: 21)
        let index = try HNSWIndex(configuration: HNSWConfiguration(dimension: dimension, m: 12, efConstruction: 100))
        try index.add(contentsOf: Array(data[0..<total * dimension]), ids: (0..<total).map(UInt64.init), threads: 2)
        var live = Set((0..<total).map(UInt64.init))
        var rng = TestData.Generator(seed: 5)
        var nextID = UInt64(total)
        for _ in 0..<5 {
            // Delete a quarter of what is left, then add back a few new vectors (reusing freed slots).
            for id in live.shuffled(using: &rng).prefix(live.count / 4) {
                try index.remove(id: id)
                live.remove(id)
            }
            for i in 0..<100 {
                let source = (i * 37) % total
                try index.add(TestData.row(data, source, dimension: dimension).map { $0 + 0.01 }, id: nextID)
                live.insert(nextID)
                nextID += 1
            }
            #expect(index.invariantViolations() == [])
        }
        #expect(index.count == live.count)
        // The remaining vectors, exactly.
        let flat = try FlatIndex(dimension: dimension)
        for id in live { try flat.add(index.vector(id: id)!, id: id) }
        var found = [[SearchResult]]()
        var truth = [[SearchResult]]()
        for q in 0..<50 {
            let query = TestData.row(data, total + q, dimension: dimension)
            let hits = try index.search(query, k: 10, ef: 64)
            #expect(hits.allSatisfy { live.contains($0.id) }, "a deleted id came back")
            found.append(hits)
            truth.append(try flat.search(query, k: 10))
        }
        let recall = TestData.recall(found, truth, k: 10)
        #expect(recall >= 0.95, "recall after deletes \(recall)")
    }

    @Test("tombstones are skipped before repair and cleared by it")
    func tombstones() throws {
        let data = TestData.clustered(count: 500, dimension: dimension, seed: 2)
        let index = try HNSWIndex(configuration: HNSWConfiguration(dimension: dimension, m: 8, repairThreshold: 0))
        try index.add(contentsOf: data, ids: (0..<500).map(UInt64.init))
        for id in 0..<UInt64(200) { try index.remove(id: id) }
        #expect(index.tombstoneCount == 200)
        #expect(index.count == 300)
        let query = TestData.row(data, 10, dimension: dimension)
        #expect(try index.search(query, k: 20).allSatisfy { $0.id >= 200 })
        index.repair()
        #expect(index.tombstoneCount == 0)
        #expect(index.invariantViolations() == [])
        #expect(try index.search(query, k: 20).allSatisfy { $0.id >= 200 })
        #expect(!index.contains(id: 10))
        // A deleted id can be added again.
        try index.add(query, id: 10)
        #expect(try index.search(query, k: 1).first?.id == 10)
    }

    @Test("after a repair every live node is reachable again", arguments: [0.3, 0.6, 0.9])
    func reachableAfterRepair(fraction: Double) throws {
        let total = 3000
        let data = TestData.clustered(count: total, dimension: dimension, seed: 31)
        let index = try HNSWIndex(configuration: HNSWConfiguration(dimension: dimension, m: 6, efConstruction: 40, repairThreshold: 0))
        try index.add(contentsOf: data, ids: (0..<total).map(UInt64.init))
        var rng = TestData.Generator(seed: 77)
        for id in (0..<UInt64(total)).shuffled(using: &rng).prefix(Int(Double(total) * fraction)) { try index.remove(id: id) }
        index.repair()
        #expect(index.invariantViolations() == [])
        #expect(index.unreachableFromEntry() == [])
    }

    @Test("deleting everything empties the index, which then works again")
    func deleteAll() throws {
        let index = try HNSWIndex(configuration: HNSWConfiguration(dimension: 3))
        try index.add(contentsOf: [1, 0, 0, 0, 1, 0, 0, 0, 1], ids: [1, 2, 3])
        for id: UInt64 in [1, 2, 3] { try index.remove(id: id) }
        #expect(index.count == 0)
        #expect(try index.search([1, 0, 0], k: 3).isEmpty)
        try index.add([1, 1, 0], id: 4)
        #expect(try index.search([1, 0, 0], k: 3).map(\.id) == [4])
        #expect(index.invariantViolations() == [])
    }

    @Test("update replaces a vector")
    func update() throws {
        let index = try HNSWIndex(configuration: HNSWConfiguration(dimension: 2))
        try index.add([1, 0], id: 1)
        try index.add([0, 1], id: 2)
        try index.update([1, 0.01], id: 2)
        #expect(index.count == 2)
        let hits = try index.search([1, 0], k: 2)
        #expect(Set(hits.map(\.id)) == [1, 2])
        #expect(hits.allSatisfy { $0.score > 0.99 })
    }
}
