/// Per-search working memory, reused across searches so the search loop does not allocate.
///
/// One scratch is used by one thread at a time: the index hands it out from a pool.
final class SearchScratch: @unchecked Sendable {
    static let heuristicBlock = 16
    static let bruteForceBlock = 256

    let dimension: Int
    private(set) var capacity = 0
    private(set) var visited: UnsafeMutablePointer<UInt16>
    private(set) var generation: UInt16 = 0
    var candidates = CandidateHeap(capacity: 256)
    var results = CandidateHeap(capacity: 256)
    /// Candidates in ascending distance, input of the neighbour heuristic.
    var ordered: UnsafeMutablePointer<Candidate>
    private(set) var orderedCapacity: Int

    let query: UnsafeMutablePointer<Float>
    /// The query as the quantised walks read it (see ``ScalarQuantizer/prepare(_:integers:)``).
    let integerQuery: UnsafeMutablePointer<Int16>
    var preparedQuery = ScalarQuantizer.PreparedQuery()
    let neighbours: UnsafeMutablePointer<UInt32>
    let dots: UnsafeMutablePointer<Float>
    let gathered: UnsafeMutablePointer<Float>
    let gatheredSlots: UnsafeMutablePointer<UInt32>
    let selected: UnsafeMutablePointer<UInt32>
    let reselected: UnsafeMutablePointer<UInt32>
    let keptVectors: UnsafeMutablePointer<Float>
    let keptNorms: UnsafeMutablePointer<Float>
    let blockVectors: UnsafeMutablePointer<Float>
    let pairDots: UnsafeMutablePointer<Float>

    init(dimension: Int, maxDegree: Int, capacity: Int) {
        self.dimension = dimension
        let rows = max(maxDegree + 1, Self.bruteForceBlock)
        visited = .allocate(capacity: 1)
        orderedCapacity = 256
        ordered = .allocate(capacity: orderedCapacity)
        query = .allocate(capacity: dimension)
        integerQuery = .allocate(capacity: dimension)
        neighbours = .allocate(capacity: maxDegree + 1)
        dots = .allocate(capacity: rows)
        gathered = .allocate(capacity: rows * dimension)
        gatheredSlots = .allocate(capacity: rows)
        selected = .allocate(capacity: maxDegree + 1)
        reselected = .allocate(capacity: maxDegree + 1)
        keptVectors = .allocate(capacity: (maxDegree + 1) * dimension)
        keptNorms = .allocate(capacity: maxDegree + 1)
        blockVectors = .allocate(capacity: Self.heuristicBlock * dimension)
        pairDots = .allocate(capacity: Self.heuristicBlock * (maxDegree + 1))
        ensureCapacity(capacity)
    }

    deinit {
        visited.deallocate()
        candidates.deallocate()
        results.deallocate()
        ordered.deallocate()
        query.deallocate()
        integerQuery.deallocate()
        neighbours.deallocate()
        dots.deallocate()
        gathered.deallocate()
        gatheredSlots.deallocate()
        selected.deallocate()
        reselected.deallocate()
        keptVectors.deallocate()
        keptNorms.deallocate()
        blockVectors.deallocate()
        pairDots.deallocate()
    }

    var memoryBytes: Int { capacity * 2 }

    func ensureCapacity(_ needed: Int) {
        guard needed > capacity else { return }
        let newCapacity = max(needed, 1024)
        visited.deallocate()
        visited = .allocate(capacity: newCapacity)
        visited.initialize(repeating: 0, count: newCapacity)
        capacity = newCapacity
        generation = 0
    }

    /// Starts a new search: every slot becomes unvisited in O(1), except once every 65,535 searches.
    @inline(__always)
    func beginVisit() {
        generation &+= 1
        if generation == 0 {
            visited.update(repeating: 0, count: capacity)
            generation = 1
        }
    }

    @inline(__always)
    func ensureOrderedCapacity(_ needed: Int) {
        guard needed > orderedCapacity else { return }
        ordered.deallocate()
        orderedCapacity = max(needed, orderedCapacity * 2)
        ordered = .allocate(capacity: orderedCapacity)
    }

    /// Moves the results heap (a max-heap of negated distances) into `ordered`, nearest first. Returns the count.
    @inline(__always)
    func drainResultsAscending() -> Int {
        let count = results.count
        ensureOrderedCapacity(count)
        var i = count - 1
        while !results.isEmpty {
            let c = results.pop()
            ordered[i] = Candidate(distance: -c.distance, slot: c.slot)
            i -= 1
        }
        return count
    }
}
