import Synchronization

/// A bounded least-recently-used cache: a dictionary into a doubly linked list kept in one array, so lookups,
/// inserts and evictions are O(1) and nothing is allocated per entry once full. Thread-safe.
public final class LRUCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        var key: Key
        var value: Value
        var newer: Int
        var older: Int
    }

    private struct State {
        var slots: [Key: Int] = [:]
        var entries: [Entry] = []
        var newest = -1
        var oldest = -1
        var hits = 0
        var misses = 0
    }

    public let capacity: Int
    private let state = Mutex(State())

    /// - Parameter capacity: entries kept; the least recently used one goes first.
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    public var count: Int { state.withLock { $0.slots.count } }

    /// Hits divided by lookups since creation (0 before any lookup).
    public var hitRate: Double {
        state.withLock { $0.hits + $0.misses == 0 ? 0 : Double($0.hits) / Double($0.hits + $0.misses) }
    }

    public var statistics: (hits: Int, misses: Int) { state.withLock { ($0.hits, $0.misses) } }

    public func value(for key: Key) -> Value? {
        state.withLock { state in
            guard let slot = state.slots[key] else {
                state.misses += 1
                return nil
            }
            state.hits += 1
            Self.moveToFront(slot, &state)
            return state.entries[slot].value
        }
    }

    public func insert(_ value: Value, for key: Key) {
        state.withLock { state in
            if let slot = state.slots[key] {
                state.entries[slot].value = value
                Self.moveToFront(slot, &state)
                return
            }
            let slot: Int
            if state.entries.count < capacity {
                slot = state.entries.count
                state.entries.append(Entry(key: key, value: value, newer: -1, older: -1))
            } else {
                // Reuse the least recently used entry.
                slot = state.oldest
                Self.unlink(slot, &state)
                state.slots[state.entries[slot].key] = nil
                state.entries[slot] = Entry(key: key, value: value, newer: -1, older: -1)
            }
            state.slots[key] = slot
            Self.pushFront(slot, &state)
        }
    }

    private static func unlink(_ slot: Int, _ state: inout State) {
        let entry = state.entries[slot]
        if entry.newer >= 0 { state.entries[entry.newer].older = entry.older } else { state.newest = entry.older }
        if entry.older >= 0 { state.entries[entry.older].newer = entry.newer } else { state.oldest = entry.newer }
    }

    private static func pushFront(_ slot: Int, _ state: inout State) {
        state.entries[slot].newer = -1
        state.entries[slot].older = state.newest
        if state.newest >= 0 { state.entries[state.newest].newer = slot }
        state.newest = slot
        if state.oldest < 0 { state.oldest = slot }
    }

    private static func moveToFront(_ slot: Int, _ state: inout State) {
        guard state.newest != slot else { return }
        unlink(slot, &state)
        pushFront(slot, &state)
    }
}

/// A bounded least-recently-used cache of embeddings keyed by model and text, so a repeated question costs no
/// embedding. Thread-safe.
public final class EmbeddingCache: Sendable {
    private struct Key: Hashable, Sendable {
        var model: String
        var text: String
    }

    private let entries: LRUCache<Key, [Float]>

    /// - Parameter capacity: entries kept; the least recently used one goes first.
    public init(capacity: Int = 10_000) {
        entries = LRUCache(capacity: capacity)
    }

    public var capacity: Int { entries.capacity }
    public var count: Int { entries.count }
    /// Hits divided by lookups since creation (0 before any lookup).
    public var hitRate: Double { entries.hitRate }
    public var statistics: (hits: Int, misses: Int) { entries.statistics }

    public func vector(model: String, text: String) -> [Float]? { entries.value(for: Key(model: model, text: text)) }

    public func insert(_ vector: [Float], model: String, text: String) { entries.insert(vector, for: Key(model: model, text: text)) }
}

/// An embedder that answers repeated texts from an ``EmbeddingCache`` and embeds only the rest.
public struct CachedEmbedder: Embedder {
    public let base: any Embedder
    public let cache: EmbeddingCache

    public init(_ base: any Embedder, cache: EmbeddingCache) {
        self.base = base
        self.cache = cache
    }

    public var modelName: String { base.modelName }
    public var dimension: Int? { base.dimension }

    public func embed(_ texts: [String]) async throws -> [[Float]] {
        var vectors = [[Float]?](repeating: nil, count: texts.count)
        var missing = [Int]()
        for (i, text) in texts.enumerated() {
            if let hit = cache.vector(model: modelName, text: text) { vectors[i] = hit } else { missing.append(i) }
        }
        if !missing.isEmpty {
            // Embed each distinct missing text once.
            let distinct = Array(Set(missing.map { texts[$0] }))
            let fresh = try await base.embed(distinct)
            let byText = Dictionary(uniqueKeysWithValues: zip(distinct, fresh))
            for (text, vector) in byText { cache.insert(vector, model: modelName, text: text) }
            for i in missing { vectors[i] = byText[texts[i]] }
        }
        return vectors.map { $0! }
    }
}
