import Foundation

/// The TEXMEX vector file formats of ANN benchmarks: `.fvecs` (float32 rows) and `.ivecs` (int32 rows), each row
/// a little-endian int32 dimension followed by that many values.
public enum VectorFile {
    /// Reads an `.fvecs` file.
    /// - Parameter limit: read at most this many rows.
    /// - Returns: the dimension, the row count and the rows, concatenated.
    /// - Throws: ``IndexError`` `.io` when the file cannot be read, `.invalidVectorFile` when a row is malformed.
    public static func readFloatVectors(at path: String, limit: Int? = nil) throws(IndexError) -> (dimension: Int, count: Int, values: [Float]) {
        let (dimension, count, bits) = try readRows(at: path, limit: limit)
        return (dimension, count, bits.map { Float(bitPattern: $0) })
    }

    /// Reads an `.ivecs` file (for example the ids of exact nearest neighbours).
    public static func readIntVectors(at path: String, limit: Int? = nil) throws(IndexError) -> (dimension: Int, count: Int, values: [Int32]) {
        let (dimension, count, bits) = try readRows(at: path, limit: limit)
        return (dimension, count, bits.map { Int32(bitPattern: $0) })
    }

    /// Writes rows of `dimension` floats as an `.fvecs` file.
    /// - Throws: ``IndexError`` `.invalidVectorFile` when `values` is not whole rows, `.io` when writing fails.
    public static func writeFloatVectors(_ values: [Float], dimension: Int, to path: String) throws(IndexError) {
        guard dimension > 0, values.count % dimension == 0 else {
            throw IndexError(.invalidVectorFile, "\(values.count) floats are not whole rows of dimension \(dimension)")
        }
        var data = Data(capacity: values.count / dimension * (4 + dimension * 4))
        var row = 0
        while row * dimension < values.count {
            withUnsafeBytes(of: Int32(dimension).littleEndian) { data.append(contentsOf: $0) }
            for value in values[row * dimension..<(row + 1) * dimension] {
                withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
            }
            row += 1
        }
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw IndexError(.io, "cannot write \(path): \(error.localizedDescription)")
        }
    }

    private static func readRows(at path: String, limit: Int?) throws(IndexError) -> (Int, Int, [UInt32]) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw IndexError(.io, "cannot read \(path): \(error.localizedDescription)")
        }
        return try data.withUnsafeBytes { parseRows($0, path: path, limit: limit) }.get()
    }

    private static func parseRows(_ raw: UnsafeRawBufferPointer, path: String, limit: Int?) -> Result<(Int, Int, [UInt32]), IndexError> {
        guard raw.count >= 4 else { return .failure(IndexError(.invalidVectorFile, "\(path) is empty")) }
        let dimension = Int(Int32(littleEndian: raw.loadUnaligned(as: Int32.self)))
        guard dimension > 0, dimension <= 1 << 20 else {
            return .failure(IndexError(.invalidVectorFile, "\(path): row 0 declares dimension \(dimension)"))
        }
        let rowBytes = 4 + dimension * 4
        guard raw.count % rowBytes == 0 else {
            return .failure(
                IndexError(.invalidVectorFile, "\(path): \(raw.count) bytes are not whole rows of dimension \(dimension) (truncated?)"))
        }
        let count = min(raw.count / rowBytes, max(0, limit ?? .max))
        var values = [UInt32](repeating: 0, count: count * dimension)
        for row in 0..<count {
            let offset = row * rowBytes
            let declared = Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
            guard declared == dimension else {
                return .failure(
                    IndexError(.invalidVectorFile, "\(path): row \(row) declares dimension \(declared), row 0 declared \(dimension)"))
            }
            for i in 0..<dimension {
                values[row * dimension + i] = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 4 + i * 4, as: UInt32.self))
            }
        }
        return .success((dimension, count, values))
    }
}
