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
