import Foundation

/// A pronunciation dictionary in CMUdict's format, PocketSphinx's `-dict`: one `word PH O N E S` line per
/// pronunciation, alternates written `word(2)`, `word(3)`.
public struct PronunciationDictionary: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Each word's pronunciations (ARPAbet phones separated by single spaces), in the file's order.
    private(set) var pronunciations: [String: [String]]

    public init(pronunciations: [String: [String]] = [:]) {
        self.pronunciations = pronunciations
    }

    /// Reads a dictionary file.
    /// - Throws: ``Failure`` when the file cannot be read.
    /// - Complexity: O(size of the file).
    public init(contentsOfFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(description: "cannot read the pronunciation dictionary \(path) (the pocketsphinx-en-us package installs it)")
        }
        var pronunciations: [String: [String]] = [:]
        pronunciations.reserveCapacity(140_000)
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
                let fields = line.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") })
                guard let head = fields.first, fields.count > 1 else { continue }
                let word = String(decoding: head.prefix { $0 != UInt8(ascii: "(") }, as: UTF8.self)
                let phones = fields.dropFirst().map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
                pronunciations[word, default: []].append(phones)
            }
        }
        self.pronunciations = pronunciations
    }

    public func contains(_ word: String) -> Bool { pronunciations[word] != nil }

    public subscript(word: String) -> [String]? { pronunciations[word] }

    /// Adds words, replacing what the dictionary had for them.
    public mutating func merge(_ additions: [String: [String]]) {
        for (word, phones) in additions { pronunciations[word] = phones }
    }

    /// The dictionary file's text for `words` (all words when nil), sorted by code point.
    /// - Complexity: O(w log w) for w words.
    public func text(for words: Set<String>? = nil) -> String {
        let chosen = words.map { $0.filter { pronunciations[$0] != nil } } ?? Array(pronunciations.keys)
        var text = ""
        for word in chosen.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            for (index, phones) in pronunciations[word]!.enumerated() {
                text += (index == 0 ? word : "\(word)(\(index + 1))") + " " + phones + "\n"
            }
        }
        return text
    }
}
