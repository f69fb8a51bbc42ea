/// One hit of a k-NN search.
public struct SearchResult: Sendable, Hashable {
    /// The caller's id of the vector.
    public var id: UInt64
    /// The metric's distance: `1 - a·b` for cosine and inner product, the squared Euclidean distance for L2.
    public var distance: Float
    /// A similarity where larger is better: the cosine or the inner product, or `-‖a - b‖` for L2.
    public var score: Float

    public init(id: UInt64, distance: Float, score: Float) {
        self.id = id
        self.distance = distance
        self.score = score
    }
}

/// Restricts a search to some vectors, for access control and metadata filters.
public enum SearchFilter: Sendable {
    /// Only these ids may be returned. Unknown ids are ignored.
    case allowList(Set<UInt64>)
    /// Only ids for which the predicate returns `true` may be returned. It is called from the searching thread while
    /// the index is locked for reading, so it must not call back into the index (that can deadlock against a writer).
    case predicate(@Sendable (UInt64) -> Bool)
}
