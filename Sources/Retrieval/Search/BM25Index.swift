import Foundation
import Synchronization
import Index

/// One BM25 hit: the passage's key and its score.
public struct BM25Hit: Sendable, Equatable {
    public var id: UInt64
    public var score: Float
}

/// Lucene-style BM25 over passages, kept in memory and current with every write.
///
/// Terms come from ``EnglishAnalyzer`` (Lucene's EnglishAnalyzer: possessives, lower case, its stop words,
/// Porter stemmer). Scores are Lucene's: `idf · tf / (tf + k1 · (1 − b + b · len / avglen))` with
/// `idf = ln(1 + (N − df + 0.5) / (df + 0.5))`, summed over the query's terms.
///
/// Access control without leaks: every passage belongs to an access group; a search names the groups the
/// caller may see, and N, df and the average length are counted over those groups only, so what a caller
/// may not see changes neither which passages they get nor their scores.
public final class BM25Index: @unchecked Sendable {
    public struct Parameters: Sendable, Equatable {
        public var k1: Float
        public var b: Float

        /// Lucene's own defaults, k1 1.2 and b 0.75. On passages of about 220 word pieces they beat the 0.9/0.4
        /// Anserini uses for whole BEIR documents (SciFact nDCG@10 0.692 against 0.679, Benchmarks/README.md).
        public init(k1: Float = 1.2, b: Float = 0.75) {
            self.k1 = k1
            self.b = b
        }
    }

    /// A passage containing a term: its slot, how often the term occurs, and the passage's length in terms, kept here
    /// so that scoring reads the postings in order instead of looking the length up at a random slot (both saturate
    /// at 65,535, far beyond a passage of a few hundred word pieces).
    private struct Posting {
        var slot: Int32
        var frequency: UInt16
        var length: UInt16

        init(slot: Int32, frequency: Int, length: Int) {
            self.slot = slot
            self.frequency = UInt16(clamping: frequency)
            self.length = UInt16(clamping: length)
        }
    }

    private struct GroupStatistics {
        var passages = 0
        var terms = 0
    }

    private struct State {
        var termIDs: [String: Int32] = [:]
        var postings: [[Posting]] = []
        var slotOfKey: [UInt64: Int32] = [:]
        var keys: [UInt64] = []
        /// Terms per slot; -1 marks a removed passage whose postings are not compacted yet.
        var lengths: [Int32] = []
        var groups: [Int32] = []
        var statistics: [Int32: GroupStatistics] = [:]
        var removed = 0
    }

    public let parameters: Parameters
    let analyzer: EnglishAnalyzer
    private let lock = ReadWriteLock()
    private var state = State()

    package init(parameters: Parameters = Parameters(), analyzer: EnglishAnalyzer = EnglishAnalyzer()) {
        self.parameters = parameters
        self.analyzer = analyzer
    }

    public convenience init(parameters: Parameters = Parameters()) {
        self.init(parameters: parameters, analyzer: EnglishAnalyzer())
    }

    /// Passages indexed.
    public var count: Int { lock.withReadLock { state.slotOfKey.count } }
    /// Distinct terms seen (including those only removed passages had, until compaction).
    public var termCount: Int { lock.withReadLock { state.termIDs.count } }

    public func contains(id: UInt64) -> Bool { lock.withReadLock { state.slotOfKey[id] != nil } }

    /// Indexes a passage, replacing any earlier passage with the same id.
    /// - Parameter group: the passage's access group (see the type's discussion).
    public func add(id: UInt64, text: String, group: Int32 = 0) {
        let terms = analyzer.terms(text)
        lock.withWriteLock { insert(id: id, terms: terms, group: group) }
    }

    /// Indexes many passages under one lock; the analysis runs before it is taken.
    public func add(contentsOf passages: [(id: UInt64, text: String, group: Int32)]) {
        let analysed = passages.map { ($0.id, analyzer.terms($0.text), $0.group) }
        lock.withWriteLock {
            for (id, terms, group) in analysed { insert(id: id, terms: terms, group: group) }
        }
    }

    /// Removes a passage; unknown ids are ignored.
    public func remove(id: UInt64) {
        lock.withWriteLock {
            removeLocked(id)
            compactIfNeeded()
        }
    }

    public func remove(ids: [UInt64]) {
        lock.withWriteLock {
            for id in ids { removeLocked(id) }
            compactIfNeeded()
        }
    }

    /// Empties the index (before a full rebuild).
    public func removeAll() {
        lock.withWriteLock { state = State() }
    }

    /// Moves a passage to another access group (its document's access list changed).
    public func setGroup(_ group: Int32, for id: UInt64) {
        lock.withWriteLock {
            guard let slot = state.slotOfKey[id] else { return }
            let old = state.groups[Int(slot)]
            guard old != group else { return }
            let length = Int(state.lengths[Int(slot)])
            state.statistics[old, default: GroupStatistics()].passages -= 1
            state.statistics[old, default: GroupStatistics()].terms -= length
            state.statistics[group, default: GroupStatistics()].passages += 1
            state.statistics[group, default: GroupStatistics()].terms += length
            state.groups[Int(slot)] = group
        }
    }

    /// The best `k` passages for `query`.
    /// - Parameter allowedGroups: the access groups the caller may see; `nil` means all.
    /// - Complexity: O(total postings of the query's terms + hits · log k).
    public func search(_ query: String, k: Int, allowedGroups: Set<Int32>? = nil) -> [BM25Hit] {
        let queryTerms = analyzer.terms(query)
        guard k > 0, !queryTerms.isEmpty else { return [] }
        return lock.withReadLock { () -> [BM25Hit] in
            let allowed: (Int32) -> Bool = { group in allowedGroups?.contains(group) ?? true }
            var passages = 0
            var terms = 0
            for (group, stats) in state.statistics where allowed(group) {
                passages += stats.passages
                terms += stats.terms
            }
            guard passages > 0 else { return [] }
            let averageLength = Float(terms) / Float(passages)
            let k1 = parameters.k1
            let b = parameters.b
            // Every posting counts when nothing is filtered out and nothing was removed.
            let everyPosting = allowedGroups == nil && state.removed == 0

            let scratch = takeScratch(slots: state.keys.count)
            defer { returnScratch(scratch) }
            // Lucene's tf / (tf + k1 · (1 − b + b · len / avglen)), with the constant parts taken out of the loop.
            let lengthFree = k1 * (1 - b)
            let perTerm = k1 * b / averageLength
            return scratch.scores.withUnsafeMutableBufferPointer { scores -> [BM25Hit] in
                scratch.touched.withUnsafeMutableBufferPointer { touched -> [BM25Hit] in
                    // Scores accumulate in a dense array indexed by slot; `touched` lists the slots to rank and to reset.
                    var touchedCount = 0
                    state.lengths.withUnsafeBufferPointer { lengths in
                        state.groups.withUnsafeBufferPointer { groups in
                            for term in queryTerms {
                                guard let termID = state.termIDs[term] else { continue }
                                state.postings[Int(termID)].withUnsafeBufferPointer { list in
                                    var df = list.count
                                    if !everyPosting {
                                        df = 0
                                        for posting in list where lengths[Int(posting.slot)] >= 0 && allowed(groups[Int(posting.slot)]) { df += 1 }
                                    }
                                    guard df > 0 else { return }
                                    let idf = Float(log(1 + (Double(passages) - Double(df) + 0.5) / (Double(df) + 0.5)))
                                    for posting in list {
                                        let slot = Int(posting.slot)
                                        guard everyPosting || (lengths[slot] >= 0 && allowed(groups[slot])) else { continue }
                                        let tf = Float(posting.frequency)
                                        let weight = idf * tf / (tf + lengthFree + perTerm * Float(posting.length))
                                        // Every contribution is positive, so a zero score means the slot is not listed yet.
                                        let previous = scores[slot]
                                        if previous == 0 {
                                            touched[touchedCount] = posting.slot
                                            touchedCount += 1
                                        }
                                        scores[slot] = previous + weight
                                    }
                                }
                            }
                        }
                    }
                    // The best k by a bounded heap whose top is the worst kept hit; ties break on the id, so results are
                    // reproducible.
                    func worse(_ a: BM25Hit, _ b: BM25Hit) -> Bool { a.score != b.score ? a.score < b.score : a.id > b.id }
                    var heap: [BM25Hit] = []
                    heap.reserveCapacity(min(k, touchedCount) + 1)
                    state.keys.withUnsafeBufferPointer { keys in
                        for slot in touched[0..<touchedCount].lazy.map(Int.init) {
                            let score = scores[slot]
                            scores[slot] = 0
                            // Most slots lose to the worst kept hit on the score alone: skip them before reading the key.
                            if heap.count == k, score < heap[0].score { continue }
                            let hit = BM25Hit(id: keys[slot], score: score)
                            if heap.count < k {
                                heap.append(hit)
                                var child = heap.count - 1
                                while child > 0 {
                                    let parent = (child - 1) / 2
                                    guard worse(heap[child], heap[parent]) else { break }
                                    heap.swapAt(child, parent)
                                    child = parent
                                }
                            } else if worse(heap[0], hit) {
                                heap[0] = hit
                                var parent = 0
                                while true {
                                    let left = 2 * parent + 1
                                    guard left < heap.count else { break }
                                    var worst = left
                                    if left + 1 < heap.count, worse(heap[left + 1], heap[left]) { worst = left + 1 }
                                    guard worse(heap[worst], heap[parent]) else { break }
                                    heap.swapAt(worst, parent)
                                    parent = worst
                                }
                            }
                        }
                    }
                    return heap.sorted { worse($1, $0) }
                }
            }
        }
    }

    /// Per-search working memory: a score per slot (all zero between searches) and room for the slots a search touches.
    /// Unchecked: a scratch belongs to one search at a time, taken from and given back to the pool under its lock.
    private final class Scratch: @unchecked Sendable {
        var scores: [Float] = []
        var touched: [Int32] = []
    }

    private let scratchPool = Mutex<[Scratch]>([])

    private func takeScratch(slots: Int) -> Scratch {
        let scratch = scratchPool.withLock { $0.popLast() } ?? Scratch()
        if scratch.scores.count < slots {
            scratch.scores.append(contentsOf: repeatElement(0, count: slots - scratch.scores.count))
            scratch.touched.append(contentsOf: repeatElement(0, count: slots - scratch.touched.count))
        }
        return scratch
    }

    private func returnScratch(_ scratch: Scratch) {
        scratchPool.withLock { pool in if pool.count < 8 { pool.append(scratch) } }
    }

    private func insert(id: UInt64, terms: [String], group: Int32) {
        removeLocked(id)
        let slot = Int32(state.keys.count)
        state.keys.append(id)
        state.lengths.append(Int32(terms.count))
        state.groups.append(group)
        state.slotOfKey[id] = slot
        state.statistics[group, default: GroupStatistics()].passages += 1
        state.statistics[group, default: GroupStatistics()].terms += terms.count
        var frequencies: [String: Int] = [:]
        for term in terms { frequencies[term, default: 0] += 1 }
        for (term, frequency) in frequencies {
            let termID: Int32
            if let known = state.termIDs[term] {
                termID = known
            } else {
                termID = Int32(state.postings.count)
                state.termIDs[term] = termID
                state.postings.append([])
            }
            state.postings[Int(termID)].append(Posting(slot: slot, frequency: frequency, length: terms.count))
        }
    }

    private func removeLocked(_ id: UInt64) {
        guard let slot = state.slotOfKey.removeValue(forKey: id) else { return }
        let group = state.groups[Int(slot)]
        state.statistics[group, default: GroupStatistics()].passages -= 1
        state.statistics[group, default: GroupStatistics()].terms -= Int(state.lengths[Int(slot)])
        state.lengths[Int(slot)] = -1
        state.removed += 1
    }

    /// Drops removed passages from the postings once they are a quarter of all slots.
    private func compactIfNeeded() {
        guard state.removed > 1_000, state.removed * 4 > state.keys.count else { return }
        var newSlot = [Int32](repeating: -1, count: state.keys.count)
        var keys: [UInt64] = []
        var lengths: [Int32] = []
        var groups: [Int32] = []
        for slot in state.keys.indices where state.lengths[slot] >= 0 {
            newSlot[slot] = Int32(keys.count)
            keys.append(state.keys[slot])
            lengths.append(state.lengths[slot])
            groups.append(state.groups[slot])
        }
        var termIDs: [String: Int32] = [:]
        var postings: [[Posting]] = []
        for (term, termID) in state.termIDs {
            let kept = state.postings[Int(termID)].compactMap { p -> Posting? in
                let slot = newSlot[Int(p.slot)]
                var moved = p
                moved.slot = slot
                return slot >= 0 ? moved : nil
            }
            guard !kept.isEmpty else { continue }
            termIDs[term] = Int32(postings.count)
            postings.append(kept)
        }
        state.keys = keys
        state.lengths = lengths
        state.groups = groups
        state.termIDs = termIDs
        state.postings = postings
        state.slotOfKey = Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($0.element, Int32($0.offset)) })
        state.removed = 0
    }
}
