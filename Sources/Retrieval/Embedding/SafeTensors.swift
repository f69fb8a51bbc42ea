package import Foundation

/// A read-only view of a `.safetensors` file: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the raw little-endian data.
///
/// Every tensor's range is checked against the file and against its shape and dtype before it is handed out.
public struct SafeTensors: Sendable {
    public struct TensorInfo: Sendable, Equatable {
        public var dtype: String
        public var shape: [Int]
        public var range: Range<Int>
    }

    public let path: String
    public let tensors: [String: TensorInfo]
    private let data: Data
    private let dataStart: Int

    /// Maps the file and parses its header.
    /// - Throws: ``EmbeddingError`` `.modelMissing` when the file cannot be read, `.modelCorrupt` for a malformed header.
    public init(path: String) throws {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else {
            throw EmbeddingError.modelMissing("cannot read \(path)")
        }
        try self.init(data: data, path: path)
    }

    package init(data: Data, path: String = "<memory>") throws {
        self.path = path
        self.data = data
        guard data.count >= 8 else { throw EmbeddingError.modelCorrupt("\(path) is too short for a safetensors header") }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= 100_000_000, 8 + Int(headerLength) <= data.count else {
            throw EmbeddingError.modelCorrupt("\(path) declares a \(headerLength)-byte header in a \(data.count)-byte file")
        }
        dataStart = 8 + Int(headerLength)
        let header = data.subdata(in: 8..<dataStart)
        guard let object = try? JSONSerialization.jsonObject(with: header) as? [String: Any] else {
            throw EmbeddingError.modelCorrupt("\(path) has a header that is not a JSON object")
        }
        let payload = data.count - dataStart
        var tensors = [String: TensorInfo]()
        for (name, value) in object where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String, let shape = entry["shape"] as? [Int],
                let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw EmbeddingError.modelCorrupt("\(path): tensor \(name) has a malformed header entry") }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= payload else {
                throw EmbeddingError.modelCorrupt("\(path): tensor \(name) lies outside the file (\(begin)..<\(end) of \(payload))")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw EmbeddingError.modelCorrupt("\(path): tensor \(name) has a negative dimension") }
            var elements = 1
            for size in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: size)
                guard !overflow, product <= payload else {
                    throw EmbeddingError.modelCorrupt("\(path): tensor \(name) has shape \(shape), larger than the file")
                }
                elements = product
            }
            if let width = Self.byteWidth(dtype), elements * width != end - begin {
                throw EmbeddingError.modelCorrupt("\(path): tensor \(name) has shape \(shape) but \(end - begin) bytes of \(dtype)")
            }
            tensors[name] = TensorInfo(dtype: dtype, shape: shape, range: begin..<end)
        }
        self.tensors = tensors
    }

    static func byteWidth(_ dtype: String) -> Int? {
        switch dtype {
        case "F64", "I64", "U64": 8
        case "F32", "I32", "U32": 4
        case "F16", "BF16", "I16", "U16": 2
        case "I8", "U8", "BOOL": 1
        default: nil
        }
    }

    /// The float32 values of tensor `name`, checked to have `shape`.
    /// - Throws: ``EmbeddingError`` `.modelCorrupt` when the tensor is missing, of another dtype or shape.
    public func floats(_ name: String, shape: [Int]) throws -> [Float] {
        guard let info = tensors[name] else { throw EmbeddingError.modelCorrupt("\(path) has no tensor \(name)") }
        guard info.shape == shape else {
            throw EmbeddingError.modelCorrupt("\(path): tensor \(name) has shape \(info.shape), expected \(shape)")
        }
        switch info.dtype {
        case "F32":
            return data.withUnsafeBytes { raw in
                let count = info.shape.reduce(1, *)
                return (0..<count).map { i in
                    Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: dataStart + info.range.lowerBound + i * 4, as: UInt32.self)))
                }
            }
        default:
            throw EmbeddingError.modelCorrupt("\(path): tensor \(name) is \(info.dtype); only F32 weights are supported")
        }
    }
}
