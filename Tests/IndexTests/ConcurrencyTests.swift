import Dispatch
import Synchronization
import Testing
@testable import Index

@Suite("Concurrent use")
struct ConcurrencyTests {
    @Test("searches run while another thread inserts and deletes")
    func searchDuringWrites() async throws {
        let d = 16
        let total = 3000
        let data = TestData.clustered(count: total, dimension: d, seed: 8)
        let index = try HNSWIndex(configuration: HNSWConfiguration(dimension: d, m: 8, efConstruction: 64), capacity: 64)
        try index.add(contentsOf: Array(data[0..<500 * d]), ids: (0..<500).map(UInt64.init))
        let counters = Counters()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // Inserts grow the buffers (capacity 64) while searches run.
                for start in stride(from: 500, to: total, by: 250) {
                    try index.add(contentsOf: Array(data[start * d..<(start + 250) * d]), ids: (start..<start + 250).map(UInt64.init), threads: 2)
                    for id in stride(from: UInt64(start), to: UInt64(start + 250), by: 10) { try index.remove(id: id) }
                }
            }
            for worker in 0..<3 {
                group.addTask {
                    for i in 0..<400 {
                        let q = (i * 13 + worker) % total
                        let hits = try index.search(TestData.row(data, q, dimension: d), k: 5)
                        if hits.count != 5 || Set(hits.map(\.id)).count != 5 { counters.bad.add(1, ordering: .relaxed) }
                        counters.searches.add(1, ordering: .relaxed)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(counters.searches.load(ordering: .relaxed) == 1200)
        #expect(counters.bad.load(ordering: .relaxed) == 0)
        #expect(index.count == total - (total - 500) / 10)
        #expect(index.invariantViolations() == [])
        // Every surviving vector is still found.
        for q in stride(from: 501, to: total, by: 97) where q % 10 != 0 {
            #expect(try index.search(TestData.row(data, q, dimension: d), k: 1, ef: 100).first?.id == UInt64(q))
        }
    }
}

private final class Counters: Sendable {
    let searches = Atomic<Int>(0)
    let bad = Atomic<Int>(0)
}
