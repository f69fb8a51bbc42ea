/// Readable text from HTML: tags dropped, `script`/`style` with their content dropped, block elements and
/// `<br>` as line breaks, list items as "- ", the common entities decoded, runs of spaces collapsed.
public enum HTMLText {
    static let blocks: Set<String> = [
        "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section", "article", "header", "footer",
        "blockquote", "pre", "hr", "dd", "dt",
    ]

    public static func plain(_ html: String) -> String {
        var output = ""
        var index = html.startIndex
        var skipping: String?
        while index < html.endIndex {
            let character = html[index]
            if character == "<", let close = html[index...].firstIndex(of: ">") {
                let inside = html[html.index(after: index)..<close]
                let closing = inside.hasPrefix("/")
                let name = inside.drop { $0 == "/" }.prefix { $0.isLetter || $0.isNumber }.lowercased()
                if let tag = skipping {
                    if closing && name == tag { skipping = nil }
                } else if !closing && (name == "script" || name == "style") && !inside.hasSuffix("/") {
                    skipping = name
                } else if blocks.contains(name) {
                    output += "\n"
                    if name == "li" && !closing { output += "- " }
                } else if name == "td" || name == "th" {
                    output += " "
                }
                index = html.index(after: close)
                continue
            }
            if skipping == nil {
                if character == "&", let end = html[index...].prefix(10).firstIndex(of: ";") {
                    let entity = String(html[html.index(after: index)..<end])
                    if let decoded = decode(entity) {
                        output += decoded
                        index = html.index(after: end)
                        continue
                    }
                }
                output.append(character)
            }
            index = html.index(after: index)
        }
        return output.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\u{00A0}" }).joined(separator: " ") }
            .reduce(into: [String]()) { lines, line in
                if line.isEmpty && (lines.last?.isEmpty ?? true) { return }
                lines.append(line)
            }
            .joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func decode(_ entity: String) -> String? {
        switch entity {
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        case "quot": return "\""
        case "apos", "#39": return "'"
        case "nbsp": return " "
        case "ndash": return "–"
        case "mdash": return "—"
        case "rsquo", "lsquo": return "’"
        case "ldquo", "rdquo": return "\""
        case "euro": return "€"
        case "hellip": return "…"
        default:
            if entity.hasPrefix("#x"), let code = UInt32(entity.dropFirst(2), radix: 16), let scalar = Unicode.Scalar(code) { return String(scalar) }
            if entity.hasPrefix("#"), let code = UInt32(entity.dropFirst()), let scalar = Unicode.Scalar(code) { return String(scalar) }
            return nil
        }
    }

    /// Whether a value looks like HTML (a tag pair), so it is read as text rather than shown as markup.
    public static func looksLikeHTML(_ value: String) -> Bool {
        guard let open = value.firstIndex(of: "<") else { return false }
        let rest = value[open...]
        return rest.contains(">") && (rest.contains("</") || rest.contains("/>") || rest.lowercased().contains("<br"))
    }
}

import Foundation
