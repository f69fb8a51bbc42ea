import Foundation
import Testing
@testable import Index

@Suite("Quantised walks: 8- or 4-bit codes for the graph walk, float32 for the answers")
struct QuantizedWalkTests {
    func temporaryPath(_ name: String = #function) -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-index-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("\(name.filter(\.isLetter))-\(UInt64.random(in: 0...UInt64.max)).hnsw").path
    }

    @Test(
        "every metric keeps its recall, and the distances returned are the exact float32 ones",
        arguments: Metric.allCases, [DistanceKernel.int8, .int4])
    func recallPerMetric(metric: Metric, kernel: DistanceKernel) throws {
        let d = 32
        let count = 3000
        let data = TestData.clustered(count: count + 100, dimension: d, seed: 23)
        let base = Array(data[0..<count * d])
        let ids = (0..<count).map { UInt64($0) * 5 + 2 }
        let hnsw = try HNSWIndex(configuration: HNSWConfiguration(dimension: d, metric: metric, m: 12, efConstruction: 100, kernel: kernel))
        try hnsw.add(contentsOf: base, ids: ids)
        #expect(hnsw.quantizer?.trainedOn == count && hnsw.quantizer?.bits == kernel.quantizerBits)
        let flat = try FlatIndex(dimension: d, metric: metric)
        try flat.add(contentsOf: base, ids: ids)
        var found = [[SearchResult]]()
        var truth = [[SearchResult]]()
        for q in 0..<100 {
            let query = TestData.row(data, count + q, dimension: d)
            let hits = try hnsw.search(query, k: 10, ef: 64)
            let exact = try flat.search(query, k: 10)
            let exactDistance = Dictionary(uniqueKeysWithValues: exact.map { ($0.id, $0.distance) })
            for hit in hits {
                if let e = exactDistance[hit.id] { #expect(abs(e - hit.distance) <= 1e-3 * max(1, abs(e))) }
            }
            #expect(hits.map(\.distance) == hits.map(\.distance).sorted())
            found.append(hits)
            truth.append(exact)
        }
        let recall = TestData.recall(found, truth, k: 10)
        #expect(recall >= 0.95, "recall@10 \(recall) under \(metric) with the \(kernel) walk")
    }

    @Test("recall on real MiniLM embeddings matches the float32 walk")
    func realVectors() throws {
        let base = try VectorFile.readFloatVectors(at: TestData.annDirectory + "/base.fvecs", limit: 5000)
        let queries = try VectorFile.readFloatVectors(at: TestData.annDirectory + "/query.fvecs", limit: 100)
        let ids = (0..<base.count).map(UInt64.init)
        let hnsw = try HNSWIndex(configuration: HNSWConfiguration(dimension: base.dimension, kernel: .blasDot))
        try hnsw.add(contentsOf: base.values, ids: ids, threads: 2)
        let flat = try FlatIndex(dimension: base.dimension)
        try flat.add(contentsOf: base.values, ids: ids)
        let truth = try flat.search(batch: queries.values, k: 10)
        func recall(_ kernel: DistanceKernel) throws -> Double {
            hnsw.kernel = kernel
            let found = try (0..<queries.count).map { q in try hnsw.search(TestData.row(queries.values, q, dimension: 384), k: 10, ef: 80) }
            return TestData.recall(found, truth, k: 10)
        }
        let float32 = try recall(.blasDot)
        #expect(hnsw.quantizer == nil, "the float32 kernel trains no quantiser")
        for kernel in [DistanceKernel.int8, .int4] {
            let quantised = try recall(kernel)
            #expect(hnsw.quantizer?.trainedOn == 5000 && hnsw.quantizer?.bits == kernel.quantizerBits, "choosing \(kernel) encodes the vectors")
            #expect(quantised >= 0.97, "recall@10 \(quantised) with \(kernel)")
            #expect(quantised >= float32 - 0.01, "\(kernel) \(quantised) against float32 \(float32)")
        }
        #expect(hnsw.codeStride == 8 + 384 / 2, "4-bit rows are the range and half a byte per component")
    }

    @Test("a small index walks the float32 vectors until it has enough to train on, then retrains as it doubles")
    func trainingSchedule() throws {
        let d = 24
        let data = TestData.clustered(count: 4200, dimension: d, seed: 5)
        let index = try HNSWIndex(configuration: HNSWConfiguration(dimension: d, m: 8, efConstruction: 60, kernel: .int4))
        try index.add(contentsOf: Array(data[0..<500 * d]), ids: (0..<500).map(UInt64.init))
        #expect(index.quantizer == nil)
        let query = TestData.row(data, 77, dimension: d)
        #expect(try index.search(query, k: 1).first?.id == 77)
        // One at a time past the threshold: trained at 1,000, then again at 2,000 and 4,000.
        for i in 500..<4200 { try index.add(TestData.row(data, i, dimension: d), id: UInt64(i)) }
        #expect(index.quantizer?.trainedOn == 4000)
        for probe in [3, 1500, 4100] {
            let hit = try index.search(TestData.row(data, probe, dimension: d), k: 1).first
            #expect(hit?.id == UInt64(probe))
            #expect(hit.map { abs($0.distance) < 1e-4 } == true, "the returned distance is the exact one")
        }
        #expect(index.invariantViolations() == [])
    }

    @Test("a vector far from everything the quantiser was trained on is still found, at its exact distance", arguments: [DistanceKernel.int8, .int4])
    func outsideTheRanges(kernel: DistanceKernel) throws {
        let d = 16
        let data = TestData.clustered(count: 2000, dimension: d, seed: 9)
        let index = try HNSWIndex(configuration: HNSWConfiguration(dimension: d, metric: .l2, m: 8, kernel: kernel))
        try index.add(contentsOf: data, ids: (0..<2000).map(UInt64.init))
        let far = [Float](repeating: 40, count: d)
        try index.add(far, id: 9999)
        let hits = try index.search(far.map { $0 + 0.5 }, k: 3)
        #expect(hits.first?.id == 9999)
        #expect(hits.first.map { abs($0.distance - Float(d) * 0.25) < 1e-3 } == true)
        // Updates and deletes keep the codes in step with the vectors.
        try index.update(data[0..<d].map { $0 + 0.01 }, id: 9999)
        #expect(try index.search(Array(data[0..<d]), k: 2).map(\.id).contains(9999))
        try index.remove(id: 9999)
        #expect(try index.search(far, k: 1).first?.id != 9999)
    }

    @Test("a snapshot keeps the quantiser, so the loaded index answers exactly like the original")
    func snapshotRoundTrip() throws {
        let d = 20
        let data = TestData.clustered(count: 1600, dimension: d, seed: 31)
        let index = try HNSWIndex(configuration: HNSWConfiguration(dimension: d, metric: .innerProduct, m: 8, kernel: .int4))
        try index.add(contentsOf: Array(data[0..<1500 * d]), ids: (0..<1500).map(UInt64.init))
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try index.save(to: path, generation: 7)
        let (loaded, generation) = try HNSWIndex.load(from: path)
        #expect(generation == 7)
        #expect(loaded.quantizer?.mean == index.quantizer?.mean)
        #expect(loaded.quantizer?.trainedOn == 1500 && loaded.quantizer?.bits == 4)
        for q in 1500..<1600 {
            let query = TestData.row(data, q, dimension: d)
            #expect(try loaded.search(query, k: 10) == index.search(query, k: 10))
        }
        // Another width re-encodes the loaded vectors.
        loaded.kernel = .int8
        #expect(loaded.quantizer?.bits == 8)
        #expect(try loaded.search(TestData.row(data, 7, dimension: d), k: 1).first?.id == 7)
        // The quantiser's mean sits at the end of the file; a damaged one is refused like any corrupt payload.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count - 2] ^= 0x10
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect(throws: IndexError.self) { try HNSWIndex.load(from: path) }
    }

    @Test("codes decode to within half a step of the vector, outliers included", arguments: [8, 4], [48, 70])
    func codesRoundTrip(bits: Int, d: Int) throws {
        var data = TestData.clustered(count: 300, dimension: d, seed: 2)
        for j in 0..<d { data[299 * d + j] *= 50 }
        let quantizer = data.withUnsafeBufferPointer { values in
            ScalarQuantizer(bits: bits, trainingOn: { values.baseAddress! + $0 * d }, count: 299, dimension: d)
        }
        var encoded = [UInt8](repeating: 0, count: ScalarQuantizer.rowBytes(dimension: d, bits: bits))
        var integers = [Int16](repeating: 0, count: d)
        let query = TestData.row(data, 11, dimension: d)
        let prepared = query.withUnsafeBufferPointer { quantizer.prepare($0.baseAddress!, integers: &integers) }
        for row in [0, 150, 299] {
            let vector = TestData.row(data, row, dimension: d)
            vector.withUnsafeBufferPointer { v in encoded.withUnsafeMutableBytes { quantizer.encode(v.baseAddress!, into: $0.baseAddress!) } }
            let range = encoded.withUnsafeBytes { ScalarQuantizer.range(of: $0.baseAddress!) }
            for j in 0..<d {
                let code = bits == 8 ? encoded[ScalarQuantizer.rowHeader + j] : Self.nibble(encoded, component: j, dimension: d)
                let decoded = quantizer.mean[j] + range.x + range.y * Float(code)
                #expect(abs(decoded - vector[j]) <= range.y / 2 + 1e-4 * max(1, abs(vector[j])))
            }
            let approximate = encoded.withUnsafeBytes { row in
                bits == 8
                    ? ScalarQuantizer.dot8(integers, prepared, row: row.baseAddress!, dimension: d)
                    : ScalarQuantizer.dot4(integers, prepared, row: row.baseAddress!, dimension: d)
            }
            let exact = zip(query, vector).map(*).reduce(0, +)
            // Half a step per component from the codes, and the query's own rounding to 15 bits.
            let bound = query.map { abs($0) * range.y / 2 }.reduce(0, +) + 1e-3 * max(1, abs(exact))
            #expect(abs(approximate - exact) <= bound)
        }
    }

    /// The 4-bit code of a component, by the packing ``ScalarQuantizer/encode(_:into:)`` documents.
    static func nibble(_ row: [UInt8], component j: Int, dimension: Int) -> UInt8 {
        let blocked = dimension - dimension % 32
        let byte: UInt8
        let high: Bool
        if j < blocked {
            let block = j / 32 * 32
            let k = j - block
            byte = row[ScalarQuantizer.rowHeader + block / 2 + k % 16]
            high = k >= 16
        } else {
            byte = row[ScalarQuantizer.rowHeader + j / 2]
            high = (j - blocked) % 2 == 1
        }
        return high ? byte >> 4 : byte & 0x0F
    }
}
