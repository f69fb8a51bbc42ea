/// Word error rate: word-level edit distance (substitutions, insertions, deletions) over the reference's length.
public enum WordErrorRate {
    public static func of(_ hypothesis: String, reference: String) -> Double {
        let said = words(hypothesis)
        let meant = words(reference)
        guard !meant.isEmpty else { return said.isEmpty ? 0 : 1 }
        var previous = Array(0...said.count)
        for (i, word) in meant.enumerated() {
            var current = [i + 1] + [Int](repeating: 0, count: said.count)
            for (j, heard) in said.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (word == heard ? 0 : 1))
            }
            previous = current
        }
        return Double(previous[said.count]) / Double(meant.count)
    }

    public static func words(_ text: String) -> [String] {
        text.lowercased().split { !($0.isLetter || $0.isNumber || $0 == "'") }.map(String.init)
    }
}
