import Foundation
import Testing
@testable import Index

@Suite("Index snapshots")
struct SnapshotTests {
    let dimension = 16

    func temporaryPath(_ name: String = #function) -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-index-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("\(name.filter(\.isLetter))-\(UInt64.random(in: 0...UInt64.max)).hnsw").path
    }

    func builtIndex(deleting: Int = 0) throws -> (HNSWIndex, [Float]) {
        let data = TestData.clustered(count: 800, dimension: dimension, seed: 4)
        let index = try HNSWIndex(configuration: HNSWConfiguration(dimension: dimension, metric: .l2, m: 8, repairThreshold: 0))
        try index.add(contentsOf: data, ids: (0..<800).map { UInt64($0) + 1000 })
        for id in 0..<UInt64(deleting) { try index.remove(id: 1000 + id * 3) }
        return (index, data)
    }

    @Test("a snapshot round trip answers exactly like the original", arguments: [0, 40])
    func roundTrip(deleting: Int) throws {
        let (index, data) = try builtIndex(deleting: deleting)
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try index.save(to: path, generation: 42)
        let info = try HNSWIndex.snapshotInfo(at: path)
        #expect(info.generation == 42)
        #expect(info.count == 800 - deleting)
        #expect(info.configuration == index.configuration)
        let (loaded, generation) = try HNSWIndex.load(from: path)
        #expect(generation == 42)
        #expect(loaded.count == index.count)
        #expect(loaded.tombstoneCount == deleting)
        #expect(loaded.invariantViolations() == [])
        for q in stride(from: 0, to: 800, by: 40) {
            let query = TestData.row(data, q, dimension: dimension)
            #expect(try loaded.search(query, k: 10) == index.search(query, k: 10))
        }
        // The loaded index keeps working: inserts, deletes and repair.
        try loaded.add(TestData.row(data, 1, dimension: dimension).map { $0 * 2 }, id: 1)
        try loaded.remove(id: 1001)
        loaded.repair()
        #expect(loaded.invariantViolations() == [])
    }

    @Test("a corrupt payload byte is detected")
    func corruptPayload() throws {
        let (index, _) = try builtIndex()
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try index.save(to: path, generation: 1)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect(throws: IndexError.self) { try HNSWIndex.load(from: path) }
        do {
            _ = try HNSWIndex.load(from: path)
        } catch {
            #expect(error.code == .invalidSnapshot)
            #expect(error.message.contains("checksum"))
        }
    }

    @Test("a truncated file, a damaged header and a foreign file are rejected")
    func damagedFiles() throws {
        let (index, _) = try builtIndex()
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try index.save(to: path, generation: 1)
        let original = try Data(contentsOf: URL(fileURLWithPath: path))

        func expectRejected(_ bytes: Data, mentioning words: String) throws {
            try bytes.write(to: URL(fileURLWithPath: path))
            do {
                _ = try HNSWIndex.load(from: path)
                Issue.record("a damaged snapshot was loaded")
            } catch {
                #expect(error.code == .invalidSnapshot)
                #expect(error.message.contains(words), "\(error.message)")
            }
            #expect(throws: IndexError.self) { try HNSWIndex.snapshotInfo(at: path) }
        }
        try expectRejected(original.prefix(original.count - 100), mentioning: "payload")
        try expectRejected(original.prefix(60), mentioning: "fewer than a header")
        var header = original
        header[70] ^= 1
        try expectRejected(header, mentioning: "header checksum")
        var magic = original
        magic[0] = UInt8(ascii: "X")
        try expectRejected(magic, mentioning: "magic")
        var version = original
        version[8] = 9
        try expectRejected(version, mentioning: "version")
    }

    /// Rewrites header fields and fixes the header checksum, as a crafted file would.
    func craft(_ original: Data, _ edit: (inout HeaderBytes) -> Void) -> Data {
        var header = HeaderBytes(Array(original.prefix(128)))
        edit(&header)
        let checksum = header.bytes.withUnsafeBytes { XXHash64.hash(UnsafeRawBufferPointer(rebasing: $0[0..<120])) }
        header.put(checksum, at: 120)
        return Data(header.bytes) + original.dropFirst(128)
    }

    @Test("crafted headers with a valid checksum are rejected, never crash or over-allocate")
    func craftedHeaders() throws {
        let (index, _) = try builtIndex(deleting: 100)
        index.repair()  // frees slots, so the file holds free slots
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try index.save(to: path, generation: 1)
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        let info = HeaderBytes(Array(original.prefix(128)))
        let freeSlot = (0..<800).first { slot in original[128 + 800 * 8 + slot] == 0xFF }!  // levels[slot] == -1
        let cases: [(String, (inout HeaderBytes) -> Void)] = [
            ("entry on a free slot", { $0.put(UInt32(freeSlot), at: 72); $0.put(Int32(-1), at: 76) }),
            ("top level -1 with nodes", { $0.put(Int32(-1), at: 76) }),
            ("overflowing counts", { $0.put(UInt64(1) << 63, at: 48); $0.put(UInt64(1) << 63, at: 56) }),
            ("huge slot count", { $0.put(UInt64(0xFFFF_FFFE), at: 40); $0.put(UInt32(65_536), at: 20) }),
            ("slot count against payload", { $0.put(info.get(UInt64.self, at: 40) + 1, at: 40) }),
        ]
        for (name, edit) in cases {
            try craft(original, edit).write(to: URL(fileURLWithPath: path))
            do {
                _ = try HNSWIndex.load(from: path)
                Issue.record("\(name): a crafted snapshot was loaded")
            } catch {
                #expect(error.code == .invalidSnapshot, "\(name): \(error)")
            }
        }
    }

    @Test("a missing file is an I/O error, and a failed save keeps the previous snapshot")
    func ioErrors() throws {
        #expect {
            try HNSWIndex.load(from: "/nonexistent/omnifin/index.hnsw")
        } throws: { ($0 as? IndexError)?.code == .io }
        let (index, _) = try builtIndex()
        #expect {
            try index.save(to: "/nonexistent/omnifin/index.hnsw", generation: 1)
        } throws: { ($0 as? IndexError)?.code == .io }
    }
}
