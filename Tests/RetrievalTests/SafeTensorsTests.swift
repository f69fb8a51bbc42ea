import Foundation
import Testing
@testable import Retrieval

@Suite("safetensors reader")
struct SafeTensorsTests {
    func file(header: String, payload: [UInt8]) -> Data {
        var data = Data()
        let bytes = Array(header.utf8)
        withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: bytes)
        data.append(contentsOf: payload)
        return data
    }

    @Test("reads float32 tensors and checks shapes")
    func reads() throws {
        let payload = [Float(1.5), -2, 3, 4].flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
        let tensors = try SafeTensors(data: file(header: #"{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"__metadata__":{}}"#, payload: payload))
        #expect(try tensors.floats("w", shape: [2, 2]) == [1.5, -2, 3, 4])
        #expect(throws: EmbeddingError.self) { try tensors.floats("w", shape: [4]) }
        #expect(throws: EmbeddingError.self) { try tensors.floats("missing", shape: [2, 2]) }
    }

    @Test("rejects malformed headers and out-of-bounds tensors", arguments: [
        #"{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,32]}}"#,
        #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}"#,
        #"{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[8,4]}}"#,
        #"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,16]}}"#,
        #"{"w":"nonsense"}"#,
        #"[1, 2]"#,
        #"{"w":{"dtype":"F32""#,
        #"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}}"#,
    ])
    func rejects(header: String) {
        #expect(throws: EmbeddingError.self) { try SafeTensors(data: file(header: header, payload: [UInt8](repeating: 0, count: 16))) }
    }

    @Test("a header length past the end of the file is rejected")
    func hugeHeader() {
        var data = Data()
        withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { data.append(contentsOf: $0) }
        #expect(throws: EmbeddingError.self) { try SafeTensors(data: data) }
        #expect(throws: EmbeddingError.self) { try SafeTensors(data: Data([1, 2, 3])) }
    }

    @Test("a truncated model file is reported as corrupt, naming the command that fixes it")
    func corruptModel() throws {
        let source = URL(fileURLWithPath: BuiltinEmbedder.defaultDirectory)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-corrupt-model-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["config.json", "vocab.txt"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: directory.appendingPathComponent(name))
        }
        let weights = try Data(contentsOf: source.appendingPathComponent("model.safetensors"))
        try weights.prefix(weights.count / 2).write(to: directory.appendingPathComponent("model.safetensors"))
        do {
            _ = try BuiltinEmbedder(directory: directory.path)
            Issue.record("a truncated model loaded")
        } catch let error as EmbeddingError {
            #expect(error.code == .modelCorrupt)
            #expect(error.message.contains("make model"))
        }
    }

    @Test("a missing model names the command that fixes it")
    func missingModel() {
        do {
            _ = try BuiltinEmbedder(directory: "/nonexistent/omnifin-model")
            Issue.record("a missing model loaded")
        } catch let error as EmbeddingError {
            #expect(error.code == .modelMissing)
            #expect(error.message.contains("make model"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
