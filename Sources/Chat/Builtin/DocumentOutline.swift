import Foundation
import Retrieval

/// A document read the way a person reads it before quoting it: headings, paragraphs split into sentences, lists
/// with the sentence that introduces them, tables as rows under their header, and the answers of FAQ entries.
/// Markup (`**`, `#`, `|`, link targets) is gone from every unit's text.
struct DocumentOutline: Sendable {
    /// A piece an answer can quote.
    struct Unit: Sendable {
        enum Kind: Sendable, Equatable {
            case sentence
            /// A list item; `group` is its list.
            case item
            /// A table row, written as `first cell: other cells`; `group` is its table.
            case row
            /// A sentence that answers the question before it (`FAQ: Q? A.` or a question heading).
            case answer
            /// A question (an FAQ entry, a question heading): never quoted, it lends its match to its answer.
            case question
            /// A paragraph sentence that announces a list or table (`…listed below:`).
            case leadIn
        }

        var kind: Kind
        var text: String
        /// UTF-16 offsets in the document body (what passages count).
        var range: Range<Int>
        /// The headings above it, outermost first.
        var section: [String]
        /// The list or table it belongs to (items and rows), or the lead-in's list; -1 for none.
        var group: Int
        /// For items and rows: the unit introducing their list or table (a lead-in), if any.
        var leadIn: Int?
        /// For answers: the question unit they answer.
        var question: Int?
        /// For rows: the table's header cells.
        var header: [String]?
    }

    var units: [Unit]

    /// The units of a group (list or table), in order.
    func members(of group: Int) -> [Int] { group < 0 ? [] : units.indices.filter { units[$0].group == group && units[$0].kind != .leadIn } }

    init(body: String) {
        var units: [Unit] = []
        var section: [(level: Int, text: String)] = []
        var groups = 0
        var paragraph: [(text: Substring, offset: Int)] = []
        var currentList: Int?
        var table: (group: Int, header: [String]?)?
        var pendingQuestion: Int?
        /// The units of the last paragraph read.
        var lastParagraph: Range<Int> = 0..<0

        func sectionPath() -> [String] { section.map(\.text) }

        func flushParagraph() {
            guard !paragraph.isEmpty else { return }
            let firstUnit = units.count
            // One paragraph: its lines joined (a line break inside a paragraph is not a sentence end for prose,
            // but `Field: value` lines of exports stay one unit each because the splitter breaks at line ends).
            let start = paragraph[0].offset
            let text = paragraph.map { String($0.text) }.joined(separator: "\n")
            let utf16 = Array(text.utf16)
            var last: Int?
            for range in SentenceSplitter.sentences(in: text) {
                let raw = String(decoding: utf16[range], as: UTF16.self)
                let clean = Self.clean(raw)
                guard !clean.isEmpty else { continue }
                var unit = Unit(
                    kind: .sentence, text: clean, range: (start + range.lowerBound)..<(start + range.upperBound), section: sectionPath(), group: -1)
                if clean.hasSuffix("?") {
                    unit.kind = .question
                    pendingQuestion = units.count
                } else if let question = pendingQuestion {
                    unit.kind = .answer
                    unit.question = question
                }
                units.append(unit)
                last = units.count - 1
            }
            // A question paragraph ends its question's answer; the next paragraph is not an answer to it.
            if let last, units[last].kind != .question { pendingQuestion = nil }
            lastParagraph = firstUnit..<units.count
            paragraph = []
        }

        /// The sentence of the paragraph just before a list or table that introduces it: the last one that ends with
        /// a colon or points below.
        func leadIn() -> Int? {
            guard lastParagraph.upperBound == units.count, !lastParagraph.isEmpty, units[lastParagraph.lowerBound].section == sectionPath() else { return nil }
            for index in lastParagraph.reversed() where units[index].kind == .sentence || units[index].kind == .answer {
                let text = units[index].text.lowercased()
                if text.hasSuffix(":") || text.contains("below") || text.contains("following") || text.contains("as follows") || text.contains("listed") {
                    return index
                }
            }
            return nil
        }

        var offset = 0
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        for line in lines {
            let lineOffset = offset
            offset += line.utf16.count + 1
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let indent = line.prefix { $0 == " " || $0 == "\t" }.count
            if trimmed.isEmpty {
                flushParagraph()
                table = nil
                continue
            }
            if trimmed.hasPrefix("#"), let space = trimmed.firstIndex(of: " "), trimmed[..<space].allSatisfy({ $0 == "#" }) {
                flushParagraph()
                currentList = nil
                table = nil
                let level = trimmed.distance(from: trimmed.startIndex, to: space)
                let heading = Self.clean(String(trimmed[space...]))
                while let top = section.last, top.level >= level { section.removeLast() }
                section.append((level, heading))
                if heading.hasSuffix("?") {
                    // A question heading: the paragraph under it answers it.
                    units.append(
                        Unit(kind: .question, text: heading, range: lineOffset..<(lineOffset + line.utf16.count), section: sectionPath(), group: -1))
                    pendingQuestion = units.count - 1
                } else {
                    pendingQuestion = nil
                }
                continue
            }
            if trimmed.hasPrefix("|") {
                flushParagraph()
                currentList = nil
                let cells = trimmed.split(separator: "|", omittingEmptySubsequences: false).dropFirst().map {
                    Self.clean($0.trimmingCharacters(in: .whitespaces))
                }
                let filled = cells.last?.isEmpty == true ? Array(cells.dropLast()) : cells
                if filled.allSatisfy({ $0.allSatisfy { "-: ".contains($0) } }) { continue }
                if table == nil {
                    groups += 1
                    let lead = leadIn()
                    if let lead { units[lead].kind = .leadIn; units[lead].group = groups }
                    table = (groups, filled)
                    continue
                }
                let header = table!.header ?? []
                units.append(
                    Unit(
                        kind: .row, text: Self.rowText(filled, header: header), range: lineOffset..<(lineOffset + line.utf16.count), section: sectionPath(),
                        group: table!.group, leadIn: units.lastIndex { $0.group == table!.group && $0.kind == .leadIn }, header: header))
                continue
            }
            table = nil
            if let marker = Self.listMarker(trimmed) {
                flushParagraph()
                if currentList == nil || indent == 0 && units.last?.kind != .item {
                    groups += 1
                    currentList = groups
                    if let lead = leadIn() {
                        units[lead].kind = .leadIn
                        units[lead].group = groups
                    }
                }
                let start = lineOffset + indent + marker
                let text = Self.clean(String(trimmed.dropFirst(marker)))
                guard !text.isEmpty else { continue }
                units.append(
                    Unit(
                        kind: .item, text: text, range: start..<(lineOffset + line.utf16.count), section: sectionPath(), group: currentList!,
                        leadIn: units.lastIndex { $0.group == currentList! && $0.kind == .leadIn }))
                continue
            }
            if indent > 0, currentList != nil, paragraph.isEmpty, let last = units.indices.last, units[last].kind == .item {
                // A list item's continuation line.
                units[last].text += " " + Self.clean(trimmed)
                units[last].range = units[last].range.lowerBound..<(lineOffset + line.utf16.count)
                continue
            }
            currentList = nil
            paragraph.append((line, lineOffset))
        }
        flushParagraph()
        self.units = units
    }

    /// The length of a list marker (`- `, `* `, `+ `, `1. `, `2) `), or nil.
    static func listMarker(_ line: String) -> Int? {
        if line.hasPrefix("- ") || line.hasPrefix("* ") || line.hasPrefix("+ ") || line.hasPrefix("• ") { return 2 }
        let digits = line.prefix { $0.isASCII && $0.isNumber }
        if !digits.isEmpty, digits.count <= 3 {
            let rest = line.dropFirst(digits.count)
            if rest.hasPrefix(". ") || rest.hasPrefix(") ") { return digits.count + 2 }
        }
        return nil
    }

    /// `Netherlands: full day 47 EUR, partial day 32 EUR`; with two columns `first: second`.
    static func rowText(_ cells: [String], header: [String]) -> String {
        guard let first = cells.first else { return "" }
        let rest = cells.dropFirst().enumerated().compactMap { offset, cell -> String? in
            guard !cell.isEmpty else { return nil }
            let column = offset + 1
            if cells.count > 2, column < header.count, !header[column].isEmpty { return header[column].lowercased() + " " + cell }
            return cell
        }
        return rest.isEmpty ? first : first + ": " + rest.joined(separator: ", ")
    }

    /// The text without Markdown markup: emphasis, code marks, link targets, heading and quote marks.
    static func clean(_ raw: String) -> String {
        var text = raw.trimmingCharacters(in: .whitespaces)
        while let first = text.first, "#>".contains(first) { text = String(text.dropFirst()).trimmingCharacters(in: .whitespaces) }
        text = text.replacingOccurrences(of: "**", with: "").replacingOccurrences(of: "__", with: "").replacingOccurrences(of: "`", with: "")
        // [label](target) → label
        text = text.replacing(/\[([^\]]+)\]\([^)]*\)/) { String($0.1) }
        // *emphasis* → emphasis (a lone `*` between spaces stays)
        text = text.replacing(/(^|[\s(])\*([^*\s][^*]*)\*/) { String($0.1) + String($0.2) }
        return text.trimmingCharacters(in: .whitespaces)
    }
}
