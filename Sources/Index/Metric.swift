/// How two vectors are compared. Every metric is turned into a distance where smaller is closer.
public enum Metric: String, Sendable, CaseIterable, Codable {
    /// Cosine similarity. Vectors are L2-normalised on the way in, so the distance is `1 - a·b`.
    case cosine
    /// Inner product (maximum inner product search); the distance is `1 - a·b`.
    case innerProduct = "ip"
    /// Euclidean distance; the index ranks by the squared distance `‖a‖² + ‖b‖² - 2a·b`.
    case l2

    var code: UInt32 {
        switch self {
        case .cosine: 1
        case .innerProduct: 2
        case .l2: 3
        }
    }

    init?(code: UInt32) {
        switch code {
        case 1: self = .cosine
        case 2: self = .innerProduct
        case 3: self = .l2
        default: return nil
        }
    }

    /// Turns a dot product into a distance. `normA` and `normB` are squared norms, used by L2 only.
    @inline(__always)
    func distance(dot: Float, normA: Float, normB: Float) -> Float {
        switch self {
        case .cosine, .innerProduct: 1 - dot
        case .l2: max(0, normA + normB - 2 * dot)
        }
    }

    /// The similarity a caller sees: the dot product for cosine and inner product, the negated L2 distance otherwise.
    public func score(distance: Float) -> Float {
        switch self {
        case .cosine, .innerProduct: 1 - distance
        case .l2: -distance.squareRoot()
        }
    }
}
