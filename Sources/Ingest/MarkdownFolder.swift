import Foundation
public import Retrieval

/// A folder of Markdown and text files as knowledge documents (front matter, then the first `# ` heading or the file
/// name as the title), keyed by file name under `source`: what `omnifin serve --seed` and `--demo` load. A
/// `README.md` describes the folder and is not loaded.
public enum MarkdownFolder {
    /// - Throws: ``IngestIssue`` naming the folder, or the file and line that cannot be read.
    public static func documents(in folder: String, source: String = "corpora") throws(IngestIssue) -> [DocumentInput] {
        let root = URL(fileURLWithPath: folder)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
            throw IngestIssue(file: folder, line: nil, reason: "is not a readable folder")
        }
        var documents: [DocumentInput] = []
        for name in names.sorted() where (name.hasSuffix(".md") || name.hasSuffix(".txt")) && name != "README.md" {
            guard let text = try? String(contentsOf: root.appendingPathComponent(name), encoding: .utf8) else {
                throw IngestIssue(file: folder + "/" + name, line: nil, reason: "is not UTF-8 text")
            }
            do {
                documents.append(try MarkdownReader.document(text, name: name, source: source))
            } catch {
                throw IngestIssue(file: folder + "/" + error.file, line: error.line, reason: error.reason)
            }
        }
        return documents
    }
}
