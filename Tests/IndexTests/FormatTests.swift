import Foundation
import Testing
@testable import Index

@Suite("File formats")
struct FormatTests {
    @Test("xxHash64 matches the reference values")
    func xxhash() {
        func hash(_ text: String, seed: UInt64 = 0) -> UInt64 {
            Array(text.utf8).withUnsafeBytes { XXHash64.hash($0, seed: seed) }
        }
        #expect(hash("") == 0xEF46_DB37_51D8_E999)
        #expect(hash("a") == 0xD24E_C4F1_A98C_6E5B)
        #expect(hash("abc") == 0x44BC_2CF5_AD77_0999)
        #expect(hash("Nobody inspects the spammish repetition") == 0xFBCE_A83C_8A37_8BF1)
        // Streaming in odd pieces gives the one-shot value.
        let text = Array((0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let oneShot = text.withUnsafeBytes { XXHash64.hash($0) }
        var hasher = XXHash64()
        var start = 0
        for size in [1, 7, 31, 33, 64, 100, 764] {
            text[start..<start + size].withUnsafeBytes { hasher.update($0) }
            start += size
        }
        #expect(hasher.finalize() == oneShot)
    }

    @Test("fvecs and ivecs round trip, and malformed files are rejected")
    func vectorFiles() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-\(getpid())-test.fvecs").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let values: [Float] = [1, 2, 3, 4, 5, 6]
        try VectorFile.writeFloatVectors(values, dimension: 3, to: path)
        let read = try VectorFile.readFloatVectors(at: path)
        #expect(read.dimension == 3 && read.count == 2 && read.values == values)
        #expect(try VectorFile.readFloatVectors(at: path, limit: 1).values == [1, 2, 3])

        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count - 2).write(to: URL(fileURLWithPath: path))
        #expect { try VectorFile.readFloatVectors(at: path) } throws: { ($0 as? IndexError)?.code == .invalidVectorFile }
        bytes[16] = 9  // the second row declares dimension 9
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect { try VectorFile.readFloatVectors(at: path) } throws: { ($0 as? IndexError)?.code == .invalidVectorFile }
        #expect { try VectorFile.readFloatVectors(at: "/nonexistent.fvecs") } throws: { ($0 as? IndexError)?.code == .io }
    }

    @Test("the shared ground truth file reads as 100 ids per query")
    func groundTruth() throws {
        let truth = try VectorFile.readIntVectors(at: TestData.annDirectory + "/groundtruth.ivecs", limit: 3)
        #expect(truth.dimension == 100 && truth.count == 3)
        #expect(truth.values.allSatisfy { $0 >= 0 && $0 < 100_000 })
    }
}
