#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffered, checksummed writing of a snapshot file: written to a temporary name, flushed to disk, then renamed
/// over the destination, so a crash leaves either the old file or the new one, never half of one.
struct SnapshotWriter {
    let path: String
    private let temporaryPath: String
    private let descriptor: Int32
    private var closed = false
    private(set) var hasher = XXHash64()
    private(set) var written = 0

    init(path: String) throws(IndexError) {
        self.path = path
        temporaryPath = "\(path).tmp-\(getpid())"
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Self.failure("cannot create \(temporaryPath)") }
    }

    static func failure(_ what: String) -> IndexError {
        IndexError(.io, "\(what): \(String(cString: strerror(errno)))")
    }

    /// Writes raw bytes at `offset` without hashing them (the header).
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(IndexError) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.failure("cannot write \(temporaryPath)")
            }
            done += n
        }
    }

    /// Appends payload bytes after the header, hashing them.
    mutating func append(_ bytes: UnsafeRawBufferPointer, headerSize: Int) throws(IndexError) {
        guard bytes.count > 0 else { return }
        try write(bytes, at: headerSize + written)
        hasher.update(bytes)
        written += bytes.count
    }

    mutating func append<T>(_ pointer: UnsafePointer<T>, count: Int, headerSize: Int) throws(IndexError) {
        try append(UnsafeRawBufferPointer(start: pointer, count: count * MemoryLayout<T>.stride), headerSize: headerSize)
    }

    /// Flushes the file to disk and renames it over the destination. On failure the caller calls ``abandon()``.
    mutating func commit() throws(IndexError) {
        guard fsync(descriptor) == 0 else { throw Self.failure("cannot flush \(temporaryPath)") }
        close(descriptor)
        closed = true
        guard rename(temporaryPath, path) == 0 else { throw Self.failure("cannot rename \(temporaryPath) to \(path)") }
        // Make the rename itself durable.
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let directoryDescriptor = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    /// Closes (once) and removes the temporary file after a failure.
    mutating func abandon() {
        if !closed {
            close(descriptor)
            closed = true
        }
        unlink(temporaryPath)
    }
}

/// Reading of a snapshot file with every size checked against what is left in the file.
struct SnapshotReader {
    let path: String
    private let descriptor: Int32
    let size: Int
    private(set) var offset = 0
    private(set) var hasher = XXHash64()

    init(path: String) throws(IndexError) {
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw SnapshotWriter.failure("cannot open \(path)") }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            Glibc.close(descriptor)
            throw SnapshotWriter.failure("cannot stat \(path)")
        }
        size = Int(info.st_size)
    }

    func close() { _ = Glibc.close(descriptor) }

    var remaining: Int { size - offset }

    /// Reads exactly `count` bytes into `destination`; `hash` adds them to the payload checksum.
    mutating func read(into destination: UnsafeMutableRawPointer, count: Int, hash: Bool = true) throws(IndexError) {
        guard count <= remaining else {
            throw .invalidSnapshot(path, "the file is truncated (needs \(count) more bytes at offset \(offset), has \(remaining))")
        }
        var done = 0
        while done < count {
            let n = pread(descriptor, destination + done, count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw SnapshotWriter.failure("cannot read \(path)")
            }
            if n == 0 { throw .invalidSnapshot(path, "the file ended early at offset \(offset + done)") }
            done += n
        }
        if hash { hasher.update(UnsafeRawBufferPointer(start: destination, count: count)) }
        offset += count
    }

    mutating func read<T>(into destination: UnsafeMutablePointer<T>, count: Int) throws(IndexError) {
        try read(into: UnsafeMutableRawPointer(destination), count: count * MemoryLayout<T>.stride)
    }
}

/// Little-endian fixed-width fields of a snapshot header.
struct HeaderBytes {
    var bytes: [UInt8]

    init(size: Int) { bytes = [UInt8](repeating: 0, count: size) }
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            for i in 0..<raw.count { bytes[offset + i] = raw[i] }
        }
    }

    func get<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        var value = T.zero
        withUnsafeMutableBytes(of: &value) { raw in
            for i in 0..<raw.count { raw[i] = bytes[offset + i] }
        }
        return T(littleEndian: value)
    }
}
