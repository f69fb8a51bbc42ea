/// The construction and search parameters of an ``HNSWIndex``.
public struct HNSWConfiguration: Sendable, Equatable {
    /// Number of components of every vector.
    public var dimension: Int
    /// How vectors are compared.
    public var metric: Metric
    /// Links per node on the upper layers; level 0 keeps up to `2·m`. 16 suits 384-d text embeddings.
    public var m: Int
    /// Size of the candidate list while inserting; larger builds a better graph, more slowly.
    public var efConstruction: Int
    /// Default size of the candidate list while searching; raised to `k` when smaller.
    public var efSearch: Int
    /// Seed of the level generator, so that builds are reproducible.
    public var seed: UInt64
    /// Tombstones are repaired once they reach this fraction of the stored vectors (0 disables the automatic repair).
    public var repairThreshold: Double
    /// How the graph walk scores neighbours: by default 4-bit codes re-ranked with BLAS, the fastest at the same
    /// recall (Benchmarks/README.md); ``DistanceKernel/blasDot`` is the reference. Construction, exact scans, re-ranking
    /// and the heuristic always use BLAS on the float32 vectors.
    public var kernel: DistanceKernel

    public init(
        dimension: Int, metric: Metric = .cosine, m: Int = 16, efConstruction: Int = 200, efSearch: Int = 64, seed: UInt64 = 42,
        repairThreshold: Double = 0.1, kernel: DistanceKernel = .int4
    ) {
        self.dimension = dimension
        self.metric = metric
        self.m = m
        self.efConstruction = efConstruction
        self.efSearch = efSearch
        self.seed = seed
        self.repairThreshold = repairThreshold
        self.kernel = kernel
    }

    func validate() throws(IndexError) {
        guard dimension > 0, dimension <= 65_536 else { throw .invalidParameter("dimension must be in 1...65536 (got \(dimension))") }
        guard m >= 2, m <= 128 else { throw .invalidParameter("m must be in 2...128 (got \(m))") }
        guard efConstruction >= 1, efConstruction <= 4096 else {
            throw .invalidParameter("efConstruction must be in 1...4096 (got \(efConstruction))")
        }
        guard efSearch >= 1, efSearch <= 65_536 else { throw .invalidParameter("efSearch must be in 1...65536 (got \(efSearch))") }
        guard repairThreshold >= 0, repairThreshold <= 1 else {
            throw .invalidParameter("repairThreshold must be in 0...1 (got \(repairThreshold))")
        }
    }
}
