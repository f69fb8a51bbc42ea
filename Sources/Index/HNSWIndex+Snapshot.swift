import Synchronization

/// What the header of a snapshot file says, readable without loading the graph.
public struct SnapshotInfo: Sendable, Equatable {
    public var formatVersion: UInt32
    public var configuration: HNSWConfiguration
    /// Number of live vectors.
    public var count: Int
    /// The caller's generation number given to ``HNSWIndex/save(to:generation:)``, e.g. the store's change sequence.
    public var generation: UInt64
    /// Size of the whole file in bytes.
    public var fileBytes: Int
}

extension HNSWIndex {
    static let snapshotMagic: [UInt8] = Array("OMNIHNSW".utf8)
    /// Version 2 added the quantised walk's quantiser; version 1 files (without one) are still read.
    static let snapshotVersion: UInt32 = 2
    static let headerSize = 128

    /// Writes the whole index to one file: a 128-byte header (magic, format version, parameters, counts, the
    /// caller's `generation`, the payload size and xxHash64 checksums of payload and header), then the ids, levels,
    /// tombstone flags, norms, vectors and neighbour lists. The file is written to a temporary name, flushed and
    /// renamed, so a crash never leaves a half-written snapshot under `path`.
    ///
    /// Searches go on while the snapshot is written; inserts and deletes wait.
    /// - Throws: ``IndexError`` `.io` when the file cannot be written (the previous file at `path`, if any, is kept).
    /// - Complexity: O(n · dimension).
    public func save(to path: String, generation: UInt64) throws(IndexError) {
        try writeGate.withWriteLock { () throws(IndexError) in
            try structureLock.withReadLock { () throws(IndexError) in try saveLocked(to: path, generation: generation) }
        }
    }

    private func saveLocked(to path: String, generation: UInt64) throws(IndexError) {
        guard 1.littleEndian == 1 else { throw IndexError(.io, "snapshots are written on little-endian machines only") }
        let (slots, live, tombstones, entry, top) = state.withLock {
            ($0.highWater, $0.slotOfKey.count, $0.deletedCount, $0.entryPoint, $0.maxLevel)
        }
        var writer = try SnapshotWriter(path: path)
        do throws(IndexError) {
            let h = Self.headerSize
            try writer.append(keys, count: slots, headerSize: h)
            try writer.append(levels, count: slots, headerSize: h)
            try writer.append(deleted, count: slots, headerSize: h)
            try writer.append(norms, count: slots, headerSize: h)
            try writer.append(vectors, count: slots * dimension, headerSize: h)
            try writer.append(level0, count: slots * level0Stride, headerSize: h)
            for slot in 0..<slots where levels[slot] > 0 {
                try writer.append(upper[slot]!, count: Int(levels[slot]) * upperStride, headerSize: h)
            }
            // The codes are not written: they are encoded again from the vectors with the same mean on load.
            if let quantizer {
                var width = [UInt32(quantizer.bits).littleEndian, 0]
                try width.withUnsafeMutableBufferPointer { (b) throws(IndexError) in try writer.append(b.baseAddress!, count: 2, headerSize: h) }
                try quantizer.mean.withUnsafeBufferPointer { (b) throws(IndexError) in try writer.append(b.baseAddress!, count: dimension, headerSize: h) }
            }
            var header = HeaderBytes(size: h)
            for (i, byte) in Self.snapshotMagic.enumerated() { header.bytes[i] = byte }
            header.put(Self.snapshotVersion, at: 8)
            header.put(UInt32(h), at: 12)
            header.put(metric.code, at: 16)
            header.put(UInt32(dimension), at: 20)
            header.put(UInt32(configuration.m), at: 24)
            header.put(UInt32(configuration.efConstruction), at: 28)
            header.put(UInt32(configuration.efSearch), at: 32)
            header.put(configuration.kernel.code, at: 36)
            header.put(UInt64(slots), at: 40)
            header.put(UInt64(live), at: 48)
            header.put(UInt64(tombstones), at: 56)
            header.put(generation, at: 64)
            header.put(entry, at: 72)
            header.put(Int32(top), at: 76)
            header.put(configuration.seed, at: 80)
            header.put(UInt64(writer.written), at: 88)
            header.put(writer.hasher.finalize(), at: 96)
            header.put(configuration.repairThreshold.bitPattern, at: 104)
            header.put(UInt64(quantizer?.trainedOn ?? 0), at: 112)
            let headerChecksum = header.bytes.withUnsafeBytes { XXHash64.hash(UnsafeRawBufferPointer(rebasing: $0[0..<120])) }
            header.put(headerChecksum, at: 120)
            let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: h, alignment: 8)
            defer { raw.deallocate() }
            raw.copyBytes(from: header.bytes)
            try writer.write(UnsafeRawBufferPointer(raw), at: 0)
            try writer.commit()
        } catch {
            writer.abandon()
            throw error
        }
    }

    /// Reads and checks the header of a snapshot without loading the graph (to compare its generation with the store's).
    ///
    /// - Throws: ``IndexError`` `.invalidSnapshot` for a file that is not a snapshot, of another format version, or
    ///   with a damaged header; `.io` when it cannot be read.
    public static func snapshotInfo(at path: String) throws(IndexError) -> SnapshotInfo {
        var reader = try SnapshotReader(path: path)
        defer { reader.close() }
        return try readHeader(&reader).info
    }

    private struct Header {
        var info: SnapshotInfo
        var slots: Int
        var live: Int
        var tombstones: Int
        var entry: UInt32
        var top: Int
        var payloadBytes: Int
        var payloadChecksum: UInt64
        /// Vectors the quantised walk's quantiser was trained on; 0 when the file holds none.
        var quantizerTrainedOn: Int
    }

    private static func readHeader(_ reader: inout SnapshotReader) throws(IndexError) -> Header {
        let path = reader.path
        guard reader.size >= headerSize else {
            throw .invalidSnapshot(path, "the file has \(reader.size) bytes, fewer than a header")
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: headerSize, alignment: 8)
        defer { buffer.deallocate() }
        try reader.read(into: buffer.baseAddress!, count: headerSize, hash: false)
        let raw = [UInt8](buffer)
        let header = HeaderBytes(raw)
        guard Array(raw[0..<8]) == snapshotMagic else { throw .invalidSnapshot(path, "it is not an Omnifin index snapshot (bad magic)") }
        let version = header.get(UInt32.self, at: 8)
        guard version == 1 || version == snapshotVersion else {
            throw .invalidSnapshot(path, "format version \(version) is not supported (this build reads versions 1 and \(snapshotVersion))")
        }
        let checksum = raw.withUnsafeBytes { XXHash64.hash(UnsafeRawBufferPointer(rebasing: $0[0..<120])) }
        guard checksum == header.get(UInt64.self, at: 120) else { throw .invalidSnapshot(path, "the header checksum does not match") }
        guard header.get(UInt32.self, at: 12) == UInt32(headerSize) else { throw .invalidSnapshot(path, "unexpected header size") }
        guard let metric = Metric(code: header.get(UInt32.self, at: 16)) else { throw .invalidSnapshot(path, "unknown metric") }
        let configuration = HNSWConfiguration(
            dimension: Int(header.get(UInt32.self, at: 20)), metric: metric, m: Int(header.get(UInt32.self, at: 24)),
            efConstruction: Int(header.get(UInt32.self, at: 28)), efSearch: Int(header.get(UInt32.self, at: 32)),
            seed: header.get(UInt64.self, at: 80), repairThreshold: Double(bitPattern: header.get(UInt64.self, at: 104)),
            kernel: DistanceKernel(code: header.get(UInt32.self, at: 36)) ?? .blasDot)
        do throws(IndexError) { try configuration.validate() } catch { throw .invalidSnapshot(path, "bad parameters: \(error.message)") }
        let slots = header.get(UInt64.self, at: 40)
        let live = header.get(UInt64.self, at: 48)
        let tombstones = header.get(UInt64.self, at: 56)
        let payloadBytes = header.get(UInt64.self, at: 88)
        guard slots < UInt64(UInt32.max), live <= slots, tombstones <= slots - live else { throw .invalidSnapshot(path, "inconsistent counts") }
        guard payloadBytes == UInt64(reader.size - headerSize) else {
            throw .invalidSnapshot(path, "the payload should be \(payloadBytes) bytes but the file holds \(reader.size - headerSize)")
        }
        // The fixed sections must fit in the file before anything is allocated for them.
        let perSlot = UInt64(8 + 1 + 1 + 4 + configuration.dimension * 4 + (1 + 2 * configuration.m) * 4)
        let (fixed, overflow) = slots.multipliedReportingOverflow(by: perSlot)
        guard !overflow, fixed <= payloadBytes else {
            throw .invalidSnapshot(path, "\(slots) slots do not fit in a payload of \(payloadBytes) bytes")
        }
        let top = Int(header.get(Int32.self, at: 76))
        if live + tombstones > 0 {
            guard top >= 0, top <= maxLevelCap, header.get(UInt32.self, at: 72) < UInt32(slots) else {
                throw .invalidSnapshot(path, "the entry point or top level is out of range")
            }
        }
        let info = SnapshotInfo(
            formatVersion: version, configuration: configuration, count: Int(live), generation: header.get(UInt64.self, at: 64),
            fileBytes: reader.size)
        return Header(
            info: info, slots: Int(slots), live: Int(live), tombstones: Int(tombstones), entry: header.get(UInt32.self, at: 72),
            top: top, payloadBytes: Int(payloadBytes), payloadChecksum: header.get(UInt64.self, at: 96),
            quantizerTrainedOn: version >= 2 ? Int(clamping: header.get(UInt64.self, at: 112)) : 0)
    }

    /// Loads an index written by ``save(to:generation:)``. Every size is checked before use and the payload
    /// checksum verified, so a truncated or corrupt file is rejected whole, never half-loaded.
    ///
    /// - Returns: the index and the generation it was saved with.
    /// - Throws: ``IndexError`` `.invalidSnapshot` naming what is wrong, or `.io`.
    /// - Complexity: O(file size); far faster than rebuilding the graph.
    public static func load(from path: String) throws(IndexError) -> (index: HNSWIndex, generation: UInt64) {
        var reader = try SnapshotReader(path: path)
        defer { reader.close() }
        let header = try readHeader(&reader)
        let configuration = header.info.configuration
        let slots = header.slots
        let index = try HNSWIndex(configuration: configuration, capacity: max(slots, 16))
        // Set first so that the index frees whatever upper-layer lists were read if loading fails half way.
        index.state.withLock { $0.highWater = slots }
        let d = configuration.dimension
        try reader.read(into: index.keys, count: slots)
        try reader.read(into: index.levels, count: slots)
        try reader.read(into: index.deleted, count: slots)
        try reader.read(into: index.norms, count: slots)
        try reader.read(into: index.vectors, count: slots * d)
        try reader.read(into: index.level0, count: slots * index.level0Stride)

        var upperWords = 0
        var live = 0
        var tombstones = 0
        for slot in 0..<slots {
            let level = Int(index.levels[slot])
            guard level >= -1, level <= maxLevelCap else { throw .invalidSnapshot(path, "slot \(slot) has level \(level)") }
            guard index.deleted[slot] <= 1 else { throw .invalidSnapshot(path, "slot \(slot) has a bad tombstone flag") }
            if level >= 0 { if index.deleted[slot] == 0 { live += 1 } else { tombstones += 1 } }
            upperWords += max(level, 0) * index.upperStride
        }
        guard live == header.live, tombstones == header.tombstones else {
            throw .invalidSnapshot(path, "the node counts do not match the header")
        }
        let quantizerBytes = header.quantizerTrainedOn > 0 ? 8 + d * 4 : 0
        guard upperWords * 4 + quantizerBytes == reader.remaining else {
            throw .invalidSnapshot(
                path, "the upper-layer lists and the quantiser should take \(upperWords * 4 + quantizerBytes) bytes, \(reader.remaining) remain")
        }
        for slot in 0..<slots where index.levels[slot] > 0 {
            let words = Int(index.levels[slot]) * index.upperStride
            let list = UnsafeMutablePointer<UInt32>.allocate(capacity: words)
            index.upper[slot] = list
            try reader.read(into: list, count: words)
        }
        var quantizer: ScalarQuantizer?
        if header.quantizerTrainedOn > 0 {
            var width = [UInt32](repeating: 0, count: 2)
            try width.withUnsafeMutableBufferPointer { (b) throws(IndexError) in try reader.read(into: b.baseAddress!, count: 2) }
            var mean = [Float](repeating: 0, count: d)
            try mean.withUnsafeMutableBufferPointer { (b) throws(IndexError) in try reader.read(into: b.baseAddress!, count: d) }
            let bits = Int(UInt32(littleEndian: width[0]))
            guard bits == 8 || bits == 4 else { throw .invalidSnapshot(path, "the quantiser has \(bits)-bit codes; this build reads 8 and 4") }
            quantizer = ScalarQuantizer(bits: bits, mean: mean, trainedOn: header.quantizerTrainedOn)
        }
        guard reader.hasher.finalize() == header.payloadChecksum else {
            throw .invalidSnapshot(path, "the payload checksum does not match (the file is corrupt)")
        }

        // The checksum matched; still check the graph's references so a snapshot written by a faulty build cannot
        // send a search out of bounds.
        var slotOfKey = [UInt64: UInt32](minimumCapacity: live)
        var freeSlots = [UInt32]()
        var highest = -1
        for slot in 0..<slots {
            let level = Int(index.levels[slot])
            if level < 0 {
                // Nothing may point at a free slot (links are checked below), and its list is wiped so that nothing
                // read from the file stays reachable through it.
                (index.level0 + slot * index.level0Stride).update(repeating: 0, count: index.level0Stride)
                freeSlots.append(UInt32(slot))
                continue
            }
            highest = max(highest, level)
            for l in 0...level {
                let list = index.links(of: UInt32(slot), level: l)
                let limit = l == 0 ? index.maxM0 : index.maxM
                guard Int(list[0]) <= limit else { throw .invalidSnapshot(path, "slot \(slot) has too many links on level \(l)") }
                for i in 0..<Int(list[0]) {
                    let target = Int(list[1 + i])
                    guard target < slots, Int(index.levels[target]) >= l else {
                        throw .invalidSnapshot(path, "slot \(slot) links to a missing node on level \(l)")
                    }
                }
            }
            if index.deleted[slot] == 0 {
                guard slotOfKey.updateValue(UInt32(slot), forKey: index.keys[slot]) == nil else {
                    throw .invalidSnapshot(path, "id \(index.keys[slot]) appears twice")
                }
            }
        }
        if header.live + header.tombstones > 0 {
            // The entry point must be a node on the top level, and the top level the highest one in the graph.
            guard header.entry < UInt32(slots), Int(index.levels[Int(header.entry)]) == header.top, header.top == highest else {
                throw .invalidSnapshot(path, "the entry point does not match the graph")
            }
        }
        index.state.withLock { state in
            state.slotOfKey = slotOfKey
            state.highWater = slots
            state.freeSlots = freeSlots
            state.deletedCount = header.tombstones
            state.entryPoint = header.live + header.tombstones > 0 ? header.entry : noNode
            state.maxLevel = header.live + header.tombstones > 0 ? header.top : -1
        }
        if let quantizer {
            guard quantizer.mean.allSatisfy(\.isFinite) else { throw .invalidSnapshot(path, "the quantiser's mean is not finite") }
            index.install(quantizer, slots: slots)
        } else {
            index.writeGate.withReadLock { index.trainQuantizerIfDue(adding: nil) }
        }
        return (index, header.info.generation)
    }
}
