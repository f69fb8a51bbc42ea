import Synchronization
import Testing
@testable import Retrieval

/// An embedder that counts the texts it is asked to embed.
private final class CountingEmbedder: Embedder {
    let embedded = Mutex<[String]>([])
    let modelName = "counting"
    var dimension: Int? { 2 }
    func embed(_ texts: [String]) async throws -> [[Float]] {
        embedded.withLock { $0.append(contentsOf: texts) }
        return texts.map { [Float($0.count), 1] }
    }
}

@Suite("Query-embedding cache")
struct EmbeddingCacheTests {
    @Test("repeated texts are answered from the cache, and the hit rate says so")
    func hits() async throws {
        let counting = CountingEmbedder()
        let cache = EmbeddingCache(capacity: 100)
        let embedder = CachedEmbedder(counting, cache: cache)
        #expect(try await embedder.embed(["a", "bb", "a"]) == [[1, 1], [2, 1], [1, 1]])
        #expect(counting.embedded.withLock { $0.sorted() } == ["a", "bb"])
        #expect(try await embedder.embed(["bb", "a"]) == [[2, 1], [1, 1]])
        #expect(counting.embedded.withLock { $0.count } == 2)
        #expect(cache.statistics.hits == 2)
        #expect(cache.statistics.misses == 3)
        #expect(abs(cache.hitRate - 0.4) < 1e-9)
    }

    @Test("the least recently used entry is evicted first, and models do not share entries")
    func eviction() {
        let cache = EmbeddingCache(capacity: 2)
        cache.insert([1], model: "m", text: "a")
        cache.insert([2], model: "m", text: "b")
        #expect(cache.vector(model: "m", text: "a") == [1])  // a is now the most recent
        cache.insert([3], model: "m", text: "c")  // evicts b
        #expect(cache.vector(model: "m", text: "b") == nil)
        #expect(cache.vector(model: "m", text: "a") == [1])
        #expect(cache.vector(model: "m", text: "c") == [3])
        #expect(cache.vector(model: "other", text: "a") == nil)
        #expect(cache.count == 2)
        cache.insert([9], model: "m", text: "a")
        #expect(cache.vector(model: "m", text: "a") == [9])
    }
}
