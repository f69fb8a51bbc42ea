public import Foundation
public import Settings
import Index

/// An embedder that remembers every vector in a file, so re-running an evaluation (or re-importing a corpus)
/// does not embed the same texts again.
///
/// The file is append-only: a header (`OMNIEMBC`, version, dimension, model name) then records of a 128-bit
/// text fingerprint and the vector. A torn last record (a crash mid-append) is ignored on load.
public final class DiskCachedEmbedder: Embedder, @unchecked Sendable {
    public let base: any Embedder
    public let path: String
    private let lock = ReadWriteLock()
    private var vectors: [Key: [Float]] = [:]
    private var handle: FileHandle?
    private var fileDimension: Int?
    private(set) public var hits = 0
    private(set) public var misses = 0

    private struct Key: Hashable {
        var a: UInt64
        var b: UInt64
    }

    public var modelName: String { base.modelName }
    public var dimension: Int? { base.dimension }
    /// Vectors held.
    public var count: Int { lock.withReadLock { vectors.count } }

    /// Opens (or creates) the cache file at `path` for `base`'s model.
    /// - Throws: when the file exists but belongs to another model, or cannot be created.
    public init(_ base: any Embedder, path: String) throws {
        self.base = base
        self.path = path
        try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
        if let data = FileManager.default.contents(atPath: path), !data.isEmpty {
            try load(data)
        }
    }

    /// The cache file for `model` under `directory`, else under the settings' cache folder (`~/.cache/omnifin`),
    /// else under `var/`.
    public static func defaultPath(model: String, directory: String? = nil, settings: Settings = Settings()) -> String {
        let root = directory ?? (settings.cacheDirectory.map { $0 + "/embeddings" } ?? "var/embeddings")
        let safe = model.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" }
        return root + "/" + String(safe) + ".vectors"
    }

    public func embed(_ texts: [String]) async throws -> [[Float]] {
        let keys = texts.map { text -> Key in
            let (a, b) = ContentHash.key(text)
            return Key(a: a, b: b)
        }
        var result: [[Float]?] = lock.withReadLock { keys.map { vectors[$0] } }
        let missing = result.indices.filter { result[$0] == nil }
        lock.withWriteLock {
            hits += texts.count - missing.count
            misses += missing.count
        }
        if !missing.isEmpty {
            let fresh = try await base.embed(missing.map { texts[$0] })
            for (i, vector) in zip(missing, fresh) { result[i] = vector }
            try lock.withWriteLock {
                for (i, vector) in zip(missing, fresh) where vectors[keys[i]] == nil {
                    vectors[keys[i]] = vector
                    try append(keys[i], vector)
                }
            }
        }
        return result.map { $0 ?? [] }
    }

    private static let magic = Array("OMNIEMBC".utf8)

    private func load(_ data: Data) throws {
        let bytes = [UInt8](data)
        guard bytes.count >= 16, Array(bytes[0..<8]) == Self.magic else {
            throw EmbeddingError(.invalidConfiguration, "\(path) is not an Omnifin embedding cache; delete it to start afresh")
        }
        func u32(_ at: Int) -> Int { Int(UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24) }
        let dimension = u32(8)
        let nameLength = u32(12)
        guard bytes.count >= 16 + nameLength else { throw EmbeddingError(.invalidConfiguration, "\(path) has a torn header; delete it") }
        let model = String(decoding: bytes[16..<(16 + nameLength)], as: UTF8.self)
        guard model == base.modelName else {
            throw EmbeddingError(.invalidConfiguration, "\(path) caches \(model), not \(base.modelName)")
        }
        fileDimension = dimension
        let record = 16 + dimension * 4
        var offset = 16 + nameLength
        bytes.withUnsafeBytes { raw in
            while offset + record <= bytes.count {
                let a = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                let b = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
                let vector = (0..<dimension).map {
                    Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 16 + $0 * 4, as: UInt32.self)))
                }
                vectors[Key(a: a, b: b)] = vector
                offset += record
            }
        }
        if offset != bytes.count {
            // Drop the torn tail so appends line up again.
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.truncate(atOffset: UInt64(offset))
            try handle.close()
        }
    }

    private func append(_ key: Key, _ vector: [Float]) throws {
        if handle == nil {
            if !FileManager.default.fileExists(atPath: path) || fileDimension == nil {
                var header = Self.magic
                let name = Array(base.modelName.utf8)
                for value in [UInt32(vector.count), UInt32(name.count)] { withUnsafeBytes(of: value.littleEndian) { header += $0 } }
                header += name
                FileManager.default.createFile(atPath: path, contents: Data(header))
                fileDimension = vector.count
            }
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle?.seekToEnd()
        }
        guard vector.count == fileDimension else { return }
        var record: [UInt8] = []
        record.reserveCapacity(16 + vector.count * 4)
        withUnsafeBytes(of: key.a.littleEndian) { record += $0 }
        withUnsafeBytes(of: key.b.littleEndian) { record += $0 }
        for value in vector { withUnsafeBytes(of: value.bitPattern.littleEndian) { record += $0 } }
        try handle?.write(contentsOf: Data(record))
    }
}
