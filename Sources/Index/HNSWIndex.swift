import Foundation
import Synchronization

/// An in-memory HNSW graph (Malkov & Yashunin, 2016) over Float32 vectors, with its distance math in BLAS.
///
/// Vectors live in one contiguous row-major buffer; level-0 neighbour lists in one flat block of `2·m` slots per
/// node, upper levels apart. Searches run concurrently with each other and with inserts and deletes; the graph
/// is locked per node (striped mutexes), and a reader-writer lock only guards reallocation of the buffers.
///
/// Deletes leave tombstones that searches route through but never return; once tombstones reach
/// ``HNSWConfiguration/repairThreshold`` the graph is repaired: every neighbour list that points at a deleted
/// node is re-selected from its live neighbours and theirs, and the deleted slots are reused.
public final class HNSWIndex: @unchecked Sendable {
    public let configuration: HNSWConfiguration
    /// The neighbour-scoring kernel of searches; settable so one graph can be measured with each. Choosing
    /// ``DistanceKernel/int8`` or ``DistanceKernel/int4`` on an index that has enough vectors trains its quantiser and
    /// encodes them first.
    public var kernel: DistanceKernel {
        get { kernelState.withLock { $0 } }
        set {
            kernelState.withLock { $0 = newValue }
            if newValue.quantizerBits != nil { writeGate.withReadLock { trainQuantizerIfDue(adding: nil) } }
        }
    }
    private let kernelState: Mutex<DistanceKernel>
    let dimension: Int
    let metric: Metric
    let maxM: Int
    let maxM0: Int
    let level0Stride: Int
    let upperStride: Int
    let levelMultiplier: Double

    // Buffers, reallocated only under an exclusive `structureLock`.
    var capacity: Int
    var vectors: UnsafeMutablePointer<Float>
    /// Squared norms of the stored vectors (1 under cosine).
    var norms: UnsafeMutablePointer<Float>
    var level0: UnsafeMutablePointer<UInt32>
    var upper: UnsafeMutablePointer<UnsafeMutablePointer<UInt32>?>
    /// Top level of each slot; -1 for a slot that holds no node.
    var levels: UnsafeMutablePointer<Int8>
    var keys: UnsafeMutablePointer<UInt64>
    var deleted: UnsafeMutablePointer<UInt8>
    /// The quantised copy of the vectors that the ``DistanceKernel/int8`` and ``DistanceKernel/int4`` walks score (one
    /// row of `codeStride` bytes per slot: its range, then its codes), and the quantiser that wrote it; both `nil`
    /// until it is trained.
    var codes: UnsafeMutableRawPointer?
    var quantizer: ScalarQuantizer?
    var codeStride = 0

    /// Shared by searches and writers; exclusive to grow the buffers or repair the graph.
    let structureLock = ReadWriteLock()
    /// Shared by writers; exclusive while a snapshot is written or the graph repaired, so both see a still graph.
    let writeGate = ReadWriteLock()
    let nodeLocks = StripedLocks()
    /// Held for the whole insert of a node that becomes the new top of the graph.
    let entryLock = PlainLock()
    let state: Mutex<GraphState>
    private let scratchPool = Mutex<[SearchScratch]>([])

    struct GraphState {
        var entryPoint: UInt32 = .max
        var maxLevel = -1
        var slotOfKey: [UInt64: UInt32] = [:]
        /// Slots `0..<highWater` have been used at least once.
        var highWater = 0
        var freeSlots: [UInt32] = []
        var deletedCount = 0
        /// Ids whose nodes are being linked; they become visible in `slotOfKey` once linked.
        var pendingKeys: Set<UInt64> = []
    }

    static let noNode = UInt32.max
    static let maxLevelCap = 24

    /// Creates an empty index.
    ///
    /// - Parameters:
    ///   - configuration: dimension, metric and graph parameters.
    ///   - capacity: vectors to allocate room for; the index grows past it by doubling.
    /// - Throws: ``IndexError`` `.invalidParameter` when a parameter is out of range.
    public init(configuration: HNSWConfiguration, capacity: Int = 1024) throws(IndexError) {
        try configuration.validate()
        BLASThreads.ensureOnePerCall()
        self.configuration = configuration
        dimension = configuration.dimension
        metric = configuration.metric
        maxM = configuration.m
        maxM0 = configuration.m * 2
        level0Stride = 1 + maxM0
        upperStride = 1 + maxM
        levelMultiplier = 1 / log(Double(configuration.m))
        self.capacity = max(capacity, 16)
        vectors = .allocate(capacity: self.capacity * dimension)
        norms = .allocate(capacity: self.capacity)
        level0 = .allocate(capacity: self.capacity * level0Stride)
        upper = .allocate(capacity: self.capacity)
        levels = .allocate(capacity: self.capacity)
        keys = .allocate(capacity: self.capacity)
        deleted = .allocate(capacity: self.capacity)
        level0.initialize(repeating: 0, count: self.capacity * level0Stride)
        upper.initialize(repeating: nil, count: self.capacity)
        levels.initialize(repeating: -1, count: self.capacity)
        deleted.initialize(repeating: 0, count: self.capacity)
        state = Mutex(GraphState())
        kernelState = Mutex(configuration.kernel)
    }

    deinit {
        let used = state.withLock { $0.highWater }
        for slot in 0..<used { upper[slot]?.deallocate() }
        vectors.deallocate()
        norms.deallocate()
        level0.deallocate()
        upper.deallocate()
        levels.deallocate()
        keys.deallocate()
        deleted.deallocate()
        codes?.deallocate()
    }

    /// Number of live vectors (deleted ones excluded).
    public var count: Int { state.withLock { $0.slotOfKey.count } }

    /// Number of deleted vectors still in the graph as tombstones.
    public var tombstoneCount: Int { state.withLock { $0.deletedCount } }

    /// Whether `id` is in the index.
    public func contains(id: UInt64) -> Bool { state.withLock { $0.slotOfKey[id] != nil } }

    /// The ids of all live vectors, in no particular order.
    public var ids: [UInt64] { state.withLock { Array($0.slotOfKey.keys) } }

    /// The stored vector of `id` (normalised under cosine), or `nil` when the id is unknown.
    public func vector(id: UInt64) -> [Float]? {
        structureLock.withReadLock {
            guard let slot = state.withLock({ $0.slotOfKey[id] }) else { return nil }
            return Array(UnsafeBufferPointer(start: vectors + Int(slot) * dimension, count: dimension))
        }
    }

    /// Bytes held by the index: vectors, norms, neighbour lists, ids, per-node flags, the id map and the node locks.
    /// Search scratch space (a visited array per concurrent search) is not counted.
    public var memoryBytes: Int {
        structureLock.withReadLock {
            let (used, mapped) = state.withLock { ($0.highWater, $0.slotOfKey.capacity) }
            var upperBytes = 0
            for slot in 0..<used where levels[slot] > 0 {
                upperBytes += Int(levels[slot]) * upperStride * MemoryLayout<UInt32>.stride
            }
            let perSlot =
                dimension * MemoryLayout<Float>.stride + MemoryLayout<Float>.stride + level0Stride * MemoryLayout<UInt32>.stride
                + MemoryLayout<UnsafeMutablePointer<UInt32>?>.stride + 1 + MemoryLayout<UInt64>.stride + 1
            // A Swift dictionary keeps keys and values in separate arrays plus one metadata bit per bucket.
            let mapBytes = mapped * (MemoryLayout<UInt64>.stride + MemoryLayout<UInt32>.stride) + mapped / 8
            return capacity * perSlot + upperBytes + mapBytes + nodeLocks.memoryBytes + codeBytesLocked
        }
    }

    /// Bytes of the quantised walk's copy of the vectors and its ranges (part of ``memoryBytes``); 0 until it is trained.
    public var codeBytes: Int {
        structureLock.withReadLock { codeBytesLocked }
    }

    private var codeBytesLocked: Int {
        codes == nil ? 0 : capacity * codeStride + dimension * MemoryLayout<Float>.stride
    }

    /// The raw float32 vector bytes plus neighbour lists of the live graph: the yardstick for ``memoryBytes``
    /// (the quantised copy of the vectors is not in it).
    public var payloadBytes: Int {
        structureLock.withReadLock {
            let used = state.withLock { $0.highWater }
            var links = used * level0Stride * 4
            for slot in 0..<used where levels[slot] > 0 { links += Int(levels[slot]) * upperStride * 4 }
            return used * dimension * 4 + links
        }
    }

    /// Makes room for `capacity` vectors in total, so that a bulk load does not reallocate while it runs.
    public func reserveCapacity(_ capacity: Int) {
        structureLock.withWriteLock { grow(to: capacity) }
    }

    // MARK: - Slots

    @inline(__always) func vector(at slot: UInt32) -> UnsafeMutablePointer<Float> { vectors + Int(slot) * dimension }

    @inline(__always)
    func links(of slot: UInt32, level: Int) -> UnsafeMutablePointer<UInt32> {
        level == 0 ? level0 + Int(slot) * level0Stride : upper[Int(slot)]! + (level - 1) * upperStride
    }

    /// Distance between a prepared query and a stored slot.
    @inline(__always)
    func distance(_ query: UnsafePointer<Float>, norm: Float, to slot: UInt32) -> Float {
        metric.distance(dot: Distance.dot(query, vector(at: slot), dimension: dimension), normA: norm, normB: norms[Int(slot)])
    }

    /// Reallocates every per-slot buffer. Callers hold `structureLock` exclusively.
    func grow(to needed: Int) {
        guard needed > capacity else { return }
        let newCapacity = max(needed, capacity + capacity / 2)
        func move<T>(_ old: UnsafeMutablePointer<T>, count: Int, to newCount: Int) -> UnsafeMutablePointer<T> {
            let fresh = UnsafeMutablePointer<T>.allocate(capacity: newCount)
            fresh.moveInitialize(from: old, count: count)
            old.deallocate()
            return fresh
        }
        vectors = move(vectors, count: capacity * dimension, to: newCapacity * dimension)
        norms = move(norms, count: capacity, to: newCapacity)
        level0 = move(level0, count: capacity * level0Stride, to: newCapacity * level0Stride)
        upper = move(upper, count: capacity, to: newCapacity)
        levels = move(levels, count: capacity, to: newCapacity)
        keys = move(keys, count: capacity, to: newCapacity)
        deleted = move(deleted, count: capacity, to: newCapacity)
        if let codes {
            let fresh = UnsafeMutableRawPointer.allocate(byteCount: newCapacity * codeStride, alignment: 64)
            fresh.copyMemory(from: codes, byteCount: capacity * codeStride)
            codes.deallocate()
            self.codes = fresh
        }
        (level0 + capacity * level0Stride).initialize(repeating: 0, count: (newCapacity - capacity) * level0Stride)
        (upper + capacity).initialize(repeating: nil, count: newCapacity - capacity)
        (levels + capacity).initialize(repeating: -1, count: newCapacity - capacity)
        (deleted + capacity).initialize(repeating: 0, count: newCapacity - capacity)
        capacity = newCapacity
    }

    /// The level of a new node: `⌊-ln(U)/ln(m)⌋` with `U` drawn from a hash of the seed and the id, so builds
    /// are reproducible whatever the insertion threads do.
    func randomLevel(for key: UInt64) -> Int {
        var z = configuration.seed &+ key &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let uniform = (Double(z >> 11) + 1) / Double(1 << 53)
        return min(Int(-log(uniform) * levelMultiplier), Self.maxLevelCap)
    }

    // MARK: - Scratch

    func withScratch<T, E: Error>(_ body: (SearchScratch) throws(E) -> T) throws(E) -> T {
        let scratch = scratchPool.withLock { $0.popLast() } ?? SearchScratch(dimension: dimension, maxDegree: maxM0, capacity: capacity)
        scratch.ensureCapacity(capacity)
        defer { scratchPool.withLock { $0.append(scratch) } }
        return try body(scratch)
    }
}
