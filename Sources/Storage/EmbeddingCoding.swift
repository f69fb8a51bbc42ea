public import Foundation

/// Embeddings are stored as packed little-endian float32, the same bytes in PostgreSQL and SQLite.
enum EmbeddingCoding {
    static func encode(_ vector: [Float]) -> Data {
        var data = Data(count: vector.count * 4)
        data.withUnsafeMutableBytes { raw in
            for (i, value) in vector.enumerated() {
                raw.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self)
            }
        }
        return data
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, dimension: Int) throws(StoreError) -> [Float] {
        guard bytes.count == dimension * 4 else {
            throw .corruptRow("an embedding holds \(bytes.count) bytes where dimension \(dimension) needs \(dimension * 4)")
        }
        return (0..<dimension).map { i in
            Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
        }
    }

    static func decode(_ data: Data, dimension: Int) throws(StoreError) -> [Float] {
        do {
            return try data.withUnsafeBytes { raw in try decode(raw, dimension: dimension) }
        } catch let error as StoreError {
            throw error
        } catch {
            throw .corruptRow("\(error)")
        }
    }
}

/// JSON columns (metadata, access lists) use one encoding in both stores.
enum JSONColumn {
    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).flatMap { String(data: $0, encoding: .utf8) } ?? "null"
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String, column: String) throws(StoreError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw .corruptRow("column \(column) holds invalid JSON: \(error)")
        }
    }
}
