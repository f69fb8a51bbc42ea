import Foundation
import Index
@testable import Retrieval

/// The built-in model and the shared reference data, loaded once for all tests.
enum TestModel {
    static let sharedData: String = {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repository.deletingLastPathComponent().appendingPathComponent("shared/data").path
    }()

    static let referenceDirectory = sharedData + "/minilm-reference"

    /// Fails loudly (with the command that fixes it) when `make model` has not run.
    static let embedder: Result<BuiltinEmbedder, any Error> = Result { try BuiltinEmbedder(threads: 2) }

    static func load() throws -> BuiltinEmbedder { try embedder.get() }

    static let referenceTexts: [String] = {
        let lines = (try? String(contentsOfFile: referenceDirectory + "/texts.jsonl", encoding: .utf8))?.split(separator: "\n") ?? []
        return lines.map { line in
            let object = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return object["text"] as! String
        }
    }()

    static func fixture(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)!
    }
}
