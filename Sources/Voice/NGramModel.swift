/// The words of a language model, numbered for packed n-gram keys: `<s>` is 0, `</s>` is 1, then the words in the
/// order they were first seen.
public struct NGramVocabulary: Sendable {
    public static let start: Int32 = 0
    public static let end: Int32 = 1
    /// Ids take 21 bits of a key, so a trigram fits in 63.
    public static let capacity = 1 << 21

    private(set) var words = ["<s>", "</s>"]
    private var ids = ["<s>": Int32(0), "</s>": Int32(1)]

    public var count: Int { words.count }

    /// The word's id, numbering it if it is new.
    /// - Precondition: fewer than ``capacity`` words.
    public mutating func id(_ word: String) -> Int32 {
        if let id = ids[word] { return id }
        precondition(words.count < Self.capacity, "a language model of more than \(Self.capacity) words")
        let id = Int32(words.count)
        words.append(word)
        ids[word] = id
        return id
    }

    public func id(of word: String) -> Int32? { ids[word] }

    /// Each id's rank when the words are sorted by code point, as ARPA files and SRILM list them.
    public func ranks() -> [Int] {
        var ranks = [Int](repeating: 0, count: words.count)
        let order = words.indices.sorted { words[$0].utf8.lexicographicallyPrecedes(words[$1].utf8) }
        for (rank, id) in order.enumerated() { ranks[id] = rank }
        return ranks
    }
}

/// An n-gram as one integer: up to three word ids of 21 bits each, the most recent word in the lowest bits.
public enum NGramKey {
    public static let bits: UInt64 = 21
    public static let wordMask: UInt64 = (1 << bits) - 1

    public static func make(_ ids: some Collection<Int32>) -> UInt64 {
        ids.reduce(0) { ($0 << bits) | UInt64($1) }
    }

    /// The n-gram without its last word: the history it is predicted from.
    public static func history(_ key: UInt64) -> UInt64 { key >> bits }

    /// The n-gram without its first word: what a backoff falls back to.
    public static func suffix(_ key: UInt64, order: Int) -> UInt64 { key & ((1 << (bits * UInt64(order - 1))) - 1) }

    public static func first(_ key: UInt64, order: Int) -> Int32 { Int32(truncatingIfNeeded: key >> (bits * UInt64(order - 1))) }

    public static func last(_ key: UInt64) -> Int32 { Int32(truncatingIfNeeded: key & wordMask) }

    public static func ids(_ key: UInt64, order: Int) -> [Int32] {
        (0..<order).map { Int32(truncatingIfNeeded: (key >> (bits * UInt64(order - 1 - $0))) & wordMask) }
    }
}

/// A backoff n-gram language model (what an ARPA file holds): the probabilities of the n-grams it lists and, for
/// each history, the weight that scales the shorter history's probability of a word it does not list.
public struct NGramModel: Sendable {
    public let order: Int
    /// `probabilities[n - 1][key]`: P(w | h) of each listed n-gram (h its first n - 1 words, w the last).
    public var probabilities: [[UInt64: Double]]
    /// `backoffs[n - 1][key]`: the backoff weight of each history of n words (absent means 1).
    public var backoffs: [[UInt64: Double]]

    public init(order: Int) {
        precondition((1...3).contains(order), "n-gram keys hold up to three words")
        self.order = order
        probabilities = Array(repeating: [:], count: order)
        backoffs = Array(repeating: [:], count: order)
    }

    /// P(last word | the words before it), backing off to shorter histories for n-grams the model does not list;
    /// 0 for a word it does not know.
    /// - Complexity: O(n) dictionary look-ups.
    public func probability(_ key: UInt64, order n: Int) -> Double {
        if n <= order, let listed = probabilities[n - 1][key] { return listed }
        if n == 1 { return 0 }
        let weight = backoffs[n - 2][NGramKey.history(key)] ?? 1
        return weight * probability(NGramKey.suffix(key, order: n), order: n - 1)
    }

    /// The listed n-grams of each order, for sizes and reports.
    public var counts: [Int] { probabilities.map(\.count) }
}
