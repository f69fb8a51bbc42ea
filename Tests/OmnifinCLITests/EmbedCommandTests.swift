import Foundation
import Index
import Testing

/// Runs the `omnifin` executable that `swift build --build-tests` put beside the tests.
enum CLI {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let sharedData = repository.deletingLastPathComponent().appendingPathComponent("shared/data").path

    static var executable: URL {
        // The test bundle lives in .build/<triple>/<configuration>/; the executable sits beside it.
        let products = Bundle.main.bundleURL.deletingLastPathComponent()
        for candidate in [products, Bundle.main.bundleURL] {
            let url = candidate.appendingPathComponent("omnifin")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return repository.appendingPathComponent(".build/debug/omnifin")
    }

    static func run(_ arguments: [String], environment: [String: String]? = nil, in directory: URL? = nil) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self))
    }
}

@Suite("omnifin embed")
struct EmbedCommandTests {
    @Test("embeds a TSV into the same vectors as the shipped benchmark set")
    func matchesShippedVectors() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-cli-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("out.fvecs").path
        let texts = CLI.sharedData + "/ann/pypi-minilm-100k/texts.tsv"
        let result = try CLI.run(["embed", "--input", texts, "--limit", "64", "--output", output, "--threads", "2"])
        #expect(result.status == 0, "\(result.error)")
        let ours = try VectorFile.readFloatVectors(at: output)
        let shipped = try VectorFile.readFloatVectors(at: CLI.sharedData + "/ann/pypi-minilm-100k/base.fvecs", limit: 64)
        #expect(ours.count == 64 && ours.dimension == 384)
        for row in 0..<64 {
            var cosine: Float = 0
            for i in 0..<384 { cosine += ours.values[row * 384 + i] * shipped.values[row * 384 + i] }
            #expect(cosine >= 0.9999, "row \(row): cosine \(cosine)")
        }
    }

    @Test("bad input is refused with a message that says what is wrong")
    func badInput() throws {
        let missing = try CLI.run(["embed", "--input", "/nonexistent/texts.tsv", "--output", "/tmp/x.fvecs"])
        #expect(missing.status != 0)
        #expect(missing.error.contains("cannot read /nonexistent/texts.tsv"))
        let format = try CLI.run(["embed", "--input", CLI.repository.appendingPathComponent("README.md").path, "--output", "/tmp/x.fvecs"])
        #expect(format.status != 0)
        #expect(format.error.contains(".tsv"))
        let limit = try CLI.run(["bench", "embed", "--input", "x.tsv", "--limit", "0"])
        #expect(limit.status != 0)
        #expect(limit.error.contains("--limit must be at least 1"))
    }
}

@Suite("OpenBLAS threads")
struct BLASThreadTests {
    @Test("a fresh omnifin process runs OpenBLAS with one thread per call, whatever OPENBLAS_NUM_THREADS says")
    func onePerCall() throws {
        let data = CLI.sharedData + "/ann/pypi-minilm-100k"
        for threads in ["4", nil] as [String?] {
            let result = try CLI.run(
                ["bench", "ann", "--base", data + "/base.fvecs", "--query", data + "/query.fvecs", "--limit-base", "500", "--limit-query", "20", "--ef", "10", "--json"],
                environment: threads.map { ["OPENBLAS_NUM_THREADS": $0] })
            #expect(result.status == 0, "\(result.error)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
            #expect(report["blas_threads"] as? Int == 1, "OPENBLAS_NUM_THREADS=\(threads ?? "unset"): \(report["blas_threads"] ?? "none")")
        }
    }
}
