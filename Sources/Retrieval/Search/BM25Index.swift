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
        var glossary = AcronymGlossary()
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
        let definitions = AcronymGlossary.definitions(in: text)
        lock.withWriteLock { insert(id: id, terms: terms, group: group, definitions: definitions) }
    }

    /// Indexes many passages under one lock; the analysis runs before it is taken.
    public func add(contentsOf passages: [(id: UInt64, text: String, group: Int32)]) {
        let analysed = passages.map { ($0.id, analyzer.terms($0.text), $0.group, AcronymGlossary.definitions(in: $0.text)) }
        lock.withWriteLock {
            for (id, terms, group, definitions) in analysed { insert(id: id, terms: terms, group: group, definitions: definitions) }
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

    /// The analyser's terms of `text` with their inverse document frequency (Lucene's BM25 idf) among the passages of
    /// `allowedGroups` (all when nil), nil for a term none of them holds.
    public func weights(_ text: String, allowedGroups: Set<Int32>? = nil) -> [(term: String, idf: Double?)] {
        let terms = analyzer.terms(text)
        return lock.withReadLock {
            let passages = Double(visiblePassages(allowedGroups))
            return terms.map { term in
                let df = Double(documentFrequency(term, allowedGroups))
                return (term, df > 0 ? log(1 + (passages - df + 0.5) / (df + 0.5)) : nil)
            }
        }
    }

    /// An acronym held by at most this many passages is searched with its expansion too.
    static let rareAcronymPassages = 3

    /// What the rare acronyms of `text` stand for, as passages of `allowedGroups` (all when nil) define them
    /// (see ``AcronymGlossary``): `GRNI` → `goods received not invoiced`.
    public func expansions(_ text: String, allowedGroups: Set<Int32>? = nil) -> [(acronym: String, expansion: String)] {
        lock.withReadLock {
            guard !state.glossary.isEmpty else { return [] }
            let found = state.glossary.expansions(in: text) { key in
                guard let slot = state.slotOfKey[key] else { return false }
                return allowedGroups?.contains(state.groups[Int(slot)]) ?? true
            }
            // An acronym the passages use often is found by its own name; only a rare one (`GRNI`, defined in the
            // glossary and hardly used elsewhere) needs what it stands for. On SciFact, expanding every defined
            // acronym (`DNA`, `ROS`, `Src`…) cost 0.008 hybrid nDCG@10.
            return found.filter { entry in
                guard let term = analyzer.terms(entry.acronym).first else { return false }
                return documentFrequency(term, allowedGroups) <= Self.rareAcronymPassages
            }
        }
    }

    /// `text` with each word the visible passages do not hold, and that is one edit (a letter added, dropped,
    /// changed, or two neighbours swapped) from words they do hold, replaced by the most frequent of those: `reciept`
    /// → `receipt`, `qoutes` → `quotes`. Only words of five letters or more are corrected, keeping their first letter,
    /// so short words, acronyms and names the bank does not know stay as they are.
    /// - Returns: the corrected text and the words replaced (empty when nothing was).
    public func corrected(_ text: String, allowedGroups: Set<Int32>? = nil) -> (text: String, corrections: [(from: String, to: String)]) {
        var output = ""
        var corrections: [(from: String, to: String)] = []
        var word = ""
        func flush() {
            defer { word = "" }
            guard word.count >= 5, word.allSatisfy({ $0.isLetter }), let replacement = correction(of: word.lowercased(), allowedGroups) else {
                output += word
                return
            }
            output += replacement
            corrections.append((word, replacement))
        }
        for character in text {
            if character.isLetter {
                word.append(character)
            } else {
                flush()
                output.append(character)
            }
        }
        flush()
        return (output, corrections)
    }

    private func correction(of word: String, _ allowedGroups: Set<Int32>?) -> String? {
        guard let stem = analyzer.terms(word).first else { return nil }
        return lock.withReadLock { () -> String? in
            if documentFrequency(stem, allowedGroups) > 0 { return nil }
            // A known word with a short ending (`joiner` from `join`, `euros` from `eur`) is a form of it, not a typo.
            for length in stride(from: stem.count - 1, through: 3, by: -1) where stem.count - length <= 3 {
                if documentFrequency(String(stem.prefix(length)), allowedGroups) > 0 { return nil }
            }
            let letters = Array(word)
            let alphabet = Array("abcdefghijklmnopqrstuvwxyz")
            var candidates = Set<String>()
            for i in letters.indices {
                var deleted = letters
                deleted.remove(at: i)
                candidates.insert(String(deleted))
                if i + 1 < letters.count {
                    var swapped = letters
                    swapped.swapAt(i, i + 1)
                    candidates.insert(String(swapped))
                }
                for letter in alphabet where letter != letters[i] {
                    var changed = letters
                    changed[i] = letter
                    candidates.insert(String(changed))
                }
            }
            for i in 0...letters.count {
                for letter in alphabet {
                    var inserted = letters
                    inserted.insert(letter, at: i)
                    candidates.insert(String(inserted))
                }
            }
            var best: (word: String, df: Int)?
            for candidate in candidates where candidate.first == letters.first {
                guard let term = analyzer.terms(candidate).first, term != stem else { continue }
                let df = documentFrequency(term, allowedGroups)
                if df > (best?.df ?? 0) || df == best?.df && candidate < best!.word { best = (candidate, df) }
            }
            return best?.word
        }
    }

    /// Passages of the allowed groups (all when nil). Call under the lock.
    private func visiblePassages(_ allowedGroups: Set<Int32>?) -> Int {
        guard let allowedGroups else { return state.slotOfKey.count }
        return state.statistics.filter { allowedGroups.contains($0.key) }.reduce(0) { $0 + $1.value.passages }
    }

    /// Passages of the allowed groups holding `term`. Call under the lock.
    private func documentFrequency(_ term: String, _ allowedGroups: Set<Int32>?) -> Int {
        guard let id = state.termIDs[term] else { return 0 }
        let list = state.postings[Int(id)]
        if allowedGroups == nil && state.removed == 0 { return list.count }
        var count = 0
        for posting in list where state.lengths[Int(posting.slot)] >= 0 && (allowedGroups?.contains(state.groups[Int(posting.slot)]) ?? true) {
            count += 1
        }
        return count
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

    private func insert(id: UInt64, terms: [String], group: Int32, definitions: [(acronym: String, expansion: String)]) {
        removeLocked(id)
        state.glossary.add(key: id, definitions: definitions)
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
        state.glossary.remove(key: id)
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
