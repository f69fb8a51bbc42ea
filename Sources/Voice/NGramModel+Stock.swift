import CVoice

/// A language model read through sphinxbase, such as PocketSphinx's stock `en-us.lm.bin` (a binary trie that cannot
/// be written out as ARPA text), to look up its probabilities. Not thread-safe: one build uses it at a time.
public final class SphinxLanguageModel {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private let handle: OpaquePointer

    /// - Throws: ``Failure`` when sphinxbase cannot read the file.
    public init(path: String) throws {
        var error = [CChar](repeating: 0, count: 512)
        guard let handle = omnifin_lm_open(path, &error, error.count) else {
            throw Failure(description: String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        self.handle = handle
    }

    deinit { omnifin_lm_free(handle) }

    public var order: Int { Int(omnifin_lm_order(handle)) }

    /// The model's id of each word of `vocabulary` (`<s>` and `</s>` included), -1 for words it does not know.
    public func ids(_ vocabulary: NGramVocabulary) -> [Int32] {
        vocabulary.words.map { omnifin_lm_id(handle, $0) }
    }

    /// P(last | the words before it), the model's ids oldest first; 0 when a word is unknown (-1).
    public func probability(_ words: [Int32]) -> Double {
        words.withUnsafeBufferPointer { omnifin_lm_probability(handle, $0.baseAddress, Int32($0.count)) }
    }
}

extension NGramModel {
    /// Another model's probabilities at given n-grams, to interpolate it with models over `vocabulary`: each key of
    /// `keys[n - 1]` (an n-gram of `vocabulary`'s ids) listed with P(w | h) as `other` gives it, backing off as it
    /// does; 0 for a word `other` does not know. Lists no backoff weights: it is meant to be mixed with
    /// ``mixture(_:vocabularySize:)`` over exactly these n-grams, where none is needed.
    /// - Complexity: O(keys × order) look-ups in `other`.
    public static func probabilities(of other: SphinxLanguageModel, at keys: [Set<UInt64>], vocabulary: NGramVocabulary) -> NGramModel {
        let order = min(keys.count, 3)
        let mapped = other.ids(vocabulary)
        var model = NGramModel(order: order)
        for n in 1...order {
            var level: [UInt64: Double] = [:]
            level.reserveCapacity(keys[n - 1].count)
            for key in keys[n - 1] {
                let words = NGramKey.ids(key, order: n).map { mapped[Int($0)] }
                // A trigram model is asked about the last three words at most.
                level[key] = other.probability(Array(words.suffix(other.order)))
            }
            model.probabilities[n - 1] = level
        }
        return model
    }
}
