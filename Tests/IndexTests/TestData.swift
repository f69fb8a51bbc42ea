import Foundation
@testable import Index

/// Deterministic test vectors and the shared benchmark data.
enum TestData {
    /// `../shared/data` beside the repository.
    static let sharedData: String = {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repository.deletingLastPathComponent().appendingPathComponent("shared/data").path
    }()

    static let annDirectory = sharedData + "/ann/pypi-minilm-100k"

    /// A small, seeded generator (SplitMix64) so every run sees the same vectors.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// `count` vectors of `dimension` Gaussian components drawn around a few cluster centres, like real embeddings.
    static func clustered(count: Int, dimension: Int, clusters: Int = 16, seed: UInt64 = 7) -> [Float] {
        var rng = Generator(seed: seed)
        func gaussian() -> Float {
            let u1 = Double.random(in: Double.ulpOfOne..<1, using: &rng)
            let u2 = Double.random(in: 0..<1, using: &rng)
            return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
        }
        let centres = (0..<clusters * dimension).map { _ in gaussian() * 2 }
        var values = [Float]()
        values.reserveCapacity(count * dimension)
        for _ in 0..<count {
            let c = Int.random(in: 0..<clusters, using: &rng)
            for i in 0..<dimension { values.append(centres[c * dimension + i] + gaussian()) }
        }
        return values
    }

    static func row(_ values: [Float], _ index: Int, dimension: Int) -> [Float] {
        Array(values[index * dimension..<(index + 1) * dimension])
    }

    /// Mean overlap of the top-`k` ids of `found` with `truth`, over all queries.
    static func recall(_ found: [[SearchResult]], _ truth: [[SearchResult]], k: Int) -> Double {
        var hits = 0
        var expected = 0
        for (f, t) in zip(found, truth) {
            let wanted = Set(t.prefix(k).map(\.id))
            hits += f.prefix(k).filter { wanted.contains($0.id) }.count
            expected += min(k, wanted.count)
        }
        return expected == 0 ? 1 : Double(hits) / Double(expected)
    }
}
