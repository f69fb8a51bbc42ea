import Foundation
import Testing

/// Every `--help` reads as paragraphs at 80 columns (#23): a line breaks only where the next word would not fit, so no
/// sentence is cut in the middle by a hard line break in the source.
@Suite("omnifin --help")
struct HelpTextTests {
    /// The subcommands a help text lists (lines of its SUBCOMMANDS section indented by two spaces).
    static func subcommands(_ help: String) -> [String] {
        guard let section = help.components(separatedBy: "SUBCOMMANDS:\n").last, help.contains("SUBCOMMANDS:") else { return [] }
        return section.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let name = line.split(separator: " ").first else { return nil }
            return String(name)
        }.filter { $0 != "See" }
    }

    /// Lines of the text before USAGE that break where the next word would still have fitted.
    static func brokenLines(_ help: String) -> [String] {
        let text = help.components(separatedBy: "\nUSAGE:").first ?? help
        let lines = text.components(separatedBy: "\n")
        var broken: [String] = []
        for (index, line) in lines.enumerated() where index + 1 < lines.count {
            let next = lines[index + 1]
            // Paragraph ends, indented examples and list items, and lines that introduce them, break on purpose.
            guard !line.isEmpty, !next.isEmpty, !line.hasPrefix(" "), !next.hasPrefix(" "), !next.hasPrefix("- "), !line.hasSuffix(":") else { continue }
            let word = next.split(separator: " ").first.map(String.init) ?? ""
            // ArgumentParser fills lines to 79 characters.
            if line.count + 1 + word.count <= 79 { broken.append(line) }
        }
        return broken
    }

    @Test("each command's help wraps as paragraphs at 80 columns")
    func paragraphs() throws {
        var pending = [[String]()]
        var checked = 0
        while let path = pending.popLast() {
            let run = try CLI.run(path + ["--help"], environment: ["COLUMNS": "80"])
            #expect(run.status == 0, "\(path): \(run.error)")
            let broken = Self.brokenLines(run.output)
            #expect(broken.isEmpty, "omnifin \(path.joined(separator: " ")) --help breaks mid-sentence after: \(broken)")
            checked += 1
            pending += Self.subcommands(run.output).filter { $0 != "help" }.map { path + [$0] }
        }
        #expect(checked >= 15)
    }
}
