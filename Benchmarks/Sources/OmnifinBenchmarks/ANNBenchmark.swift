import Dispatch
import Foundation
public import Index

/// The approximate-nearest-neighbour benchmark behind `omnifin bench ann`: builds an HNSW index over a base set,
/// then measures recall, throughput and latency for each efSearch against exact ground truth.
public struct ANNBenchmark: Sendable {
    public struct Options: Sendable {
        public var basePath: String
        public var queryPath: String
        /// `.ivecs` of exact neighbours; ignored (recomputed exactly) when `limitBase` cuts the base set.
        public var truthPath: String?
        public var metric: Metric = .cosine
        public var m = 16
        public var efConstruction = 200
        public var efSearch: [Int] = [10, 20, 40, 80, 160, 320]
        public var k = 10
        public var threads = 1
        public var buildThreads = 1
        public var limitBase: Int?
        public var limitQuery: Int?
        /// Where to write a snapshot to time saving and loading it; nil skips that part.
        public var snapshotPath: String?
        /// A snapshot to search instead of building (built and saved there when missing): for iterating on search.
        public var indexPath: String?
        /// Each ef is timed this many times and the fastest pass kept (the peers do the same).
        public var repeats = 3
        /// Neighbour-scoring kernels to measure; with several, passes alternate between them in one process so
        /// that they see the same machine. The first is the one reported as `results`.
        public var kernels: [DistanceKernel] = [.int4]
        /// Fractions of the base set an allow-list passes (e.g. 0.01): each is measured against exact filtered
        /// ground truth, on the first ``filteredQueries`` queries.
        public var filterFractions: [Double] = []
        public var filteredQueries = 200

        public init(basePath: String, queryPath: String, truthPath: String?) {
            self.basePath = basePath
            self.queryPath = queryPath
            self.truthPath = truthPath
        }
    }

    public struct Row: Sendable {
        public var kernel: DistanceKernel = .blasDot
        public var ef: Int
        public var recall: Double
        public var qps: Double
        public var p50Microseconds: Double
        public var p99Microseconds: Double
    }

    /// Recall and speed of a search restricted by an allow-list.
    public struct FilteredRow: Sendable {
        public var fraction: Double
        public var passing: Int
        public var ef: Int
        public var recall: Double
        public var qps: Double
        public var p50Microseconds: Double
        public var p99Microseconds: Double
    }

    public struct Report: Sendable {
        public var baseCount: Int
        public var queryCount: Int
        public var dimension: Int
        public var k: Int
        public var buildSeconds: Double
        public var indexBytes: Int
        /// Raw vector bytes plus neighbour lists: the yardstick of the memory target.
        public var payloadBytes: Int
        /// The quantised walk's copy of the vectors (part of `indexBytes`); 0 when no kernel used it.
        public var codeBytes = 0
        public var snapshotSaveSeconds: Double?
        public var snapshotLoadSeconds: Double?
        public var snapshotBytes: Int?
        public var rows: [Row]
        public var filtered: [FilteredRow] = []
        /// OpenBLAS's threads per call during the run (`nil`: another BLAS).
        public var blasThreads: Int?

        /// The JSON document of `--json`.
        public var json: String {
            var document: [String: Any] = [
                "lib": "omnifin", "base": baseCount, "queries": queryCount, "dimension": dimension, "k": k,
                "build_seconds": buildSeconds, "index_bytes": indexBytes, "payload_bytes": payloadBytes, "code_bytes": codeBytes,
                "kernel": (rows.first?.kernel ?? .blasDot).rawValue, "blas_threads": blasThreads.map { $0 as Any } ?? NSNull(),
                "results": rows.filter { $0.kernel == rows.first?.kernel }.map(jsonRow),
            ]
            let kernels = Set(rows.map(\.kernel))
            if kernels.count > 1 {
                document["by_kernel"] = Dictionary(
                    uniqueKeysWithValues: kernels.map { kernel in (kernel.rawValue, rows.filter { $0.kernel == kernel }.map(jsonRow)) })
            }
            if let snapshotSaveSeconds { document["snapshot_save_seconds"] = snapshotSaveSeconds }
            if let snapshotLoadSeconds { document["snapshot_load_seconds"] = snapshotLoadSeconds }
            if let snapshotBytes { document["snapshot_bytes"] = snapshotBytes }
            if !filtered.isEmpty {
                document["filtered"] = filtered.map { row in
                    [
                        "fraction": row.fraction, "passing": row.passing, "ef": row.ef, "recall_at_\(k)": row.recall, "qps": row.qps,
                        "p50_us": row.p50Microseconds, "p99_us": row.p99Microseconds,
                    ] as [String: Any]
                }
            }
            let data = try! JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
            return String(decoding: data, as: UTF8.self)
        }

        private func jsonRow(_ row: Row) -> [String: Any] {
            ["ef": row.ef, "recall_at_\(k)": row.recall, "qps": row.qps, "p50_us": row.p50Microseconds, "p99_us": row.p99Microseconds]
        }

        /// The human-readable table.
        public var table: String {
            var lines = [
                String(
                    format: "omnifin HNSW  base %d × %d, %d queries, k %d; OpenBLAS %@ per call", baseCount, dimension, queryCount, k,
                    blasThreads.map { $0 == 1 ? "1 thread" : "\($0) threads" } ?? "not in use"),
                String(
                    format: "build %.2f s, index %.1f MB (vectors + links %.1f MB, ratio %.3f)", buildSeconds, Double(indexBytes) / 1e6,
                    Double(payloadBytes) / 1e6, Double(indexBytes) / Double(max(payloadBytes, 1))),
            ]
            if codeBytes > 0 {
                lines.append(
                    String(
                        format: "of which the quantised walk's codes %.1f MB (ratio without them %.3f)", Double(codeBytes) / 1e6,
                        Double(indexBytes - codeBytes) / Double(max(payloadBytes, 1))))
            }
            if let snapshotSaveSeconds, let snapshotLoadSeconds, let snapshotBytes {
                lines.append(
                    String(
                        format: "snapshot %.1f MB: save %.3f s, load %.3f s (%.0f× faster than building)", Double(snapshotBytes) / 1e6,
                        snapshotSaveSeconds, snapshotLoadSeconds, buildSeconds / max(snapshotLoadSeconds, 1e-9)))
            }
            func pad(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
            lines.append([pad("kernel", 10), pad("ef", 6), pad("recall@\(k)", 10), pad("QPS", 9), pad("p50 µs", 9), pad("p99 µs", 9)].joined(separator: " "))
            for row in rows {
                lines.append(
                    pad(row.kernel.rawValue, 10) + " "
                        + String(format: "%6d %10.4f %9.0f %9.1f %9.1f", row.ef, row.recall, row.qps, row.p50Microseconds, row.p99Microseconds))
            }
            if !filtered.isEmpty {
                lines.append("filtered search (allow-list), exact filtered ground truth:")
                lines.append([pad("passes", 8), pad("vectors", 8), pad("ef", 6), pad("recall@\(k)", 10), pad("QPS", 9), pad("p50 µs", 9), pad("p99 µs", 9)].joined(separator: " "))
                for row in filtered {
                    lines.append(
                        pad(String(format: "%.1f%%", row.fraction * 100), 8) + " " + pad("\(row.passing)", 8) + " "
                            + String(format: "%6d %10.4f %9.0f %9.1f %9.1f", row.ef, row.recall, row.qps, row.p50Microseconds, row.p99Microseconds))
                }
            }
            return lines.joined(separator: "\n")
        }
    }

    public let options: Options

    public init(options: Options) { self.options = options }

    /// Runs the benchmark; `progress` receives one line per phase.
    /// - Throws: ``IndexError`` for unreadable or inconsistent vector files and bad parameters.
    public func run(progress: (String) -> Void = { _ in }) throws -> Report {
        let base = try VectorFile.readFloatVectors(at: options.basePath, limit: options.limitBase)
        let queries = try VectorFile.readFloatVectors(at: options.queryPath, limit: options.limitQuery)
        guard base.dimension == queries.dimension else {
            throw BenchmarkError("base vectors have dimension \(base.dimension) but queries have \(queries.dimension)")
        }
        let k = options.k
        let truth = try groundTruth(base: base, queries: queries, progress: progress)

        // The first kernel is the index's own: with int8 first, the build trains the quantiser (and its time counts).
        let configuration = HNSWConfiguration(
            dimension: base.dimension, metric: options.metric, m: options.m, efConstruction: options.efConstruction,
            kernel: options.kernels.first ?? .blasDot)
        var buildSeconds = 0.0
        let index: HNSWIndex
        if let indexPath = options.indexPath, FileManager.default.fileExists(atPath: indexPath) {
            index = try HNSWIndex.load(from: indexPath).index
            var expected = configuration
            expected.kernel = index.configuration.kernel
            guard index.configuration == expected, index.count == base.count else {
                throw BenchmarkError("\(indexPath) holds another index (parameters or size differ); remove it to rebuild")
            }
            index.kernel = configuration.kernel
            progress("loaded \(indexPath) instead of building")
        } else {
            index = try HNSWIndex(configuration: configuration, capacity: base.count)
            progress("building over \(base.count) vectors with \(options.buildThreads) thread(s)")
            let buildStart = DispatchTime.now()
            try index.add(contentsOf: base.values, ids: (0..<base.count).map(UInt64.init), threads: options.buildThreads)
            buildSeconds = seconds(since: buildStart)
            progress(String(format: "built in %.2f s", buildSeconds))
            if let indexPath = options.indexPath { try index.save(to: indexPath, generation: 0) }
        }

        var report = Report(
            baseCount: base.count, queryCount: queries.count, dimension: base.dimension, k: k, buildSeconds: buildSeconds,
            indexBytes: index.memoryBytes, payloadBytes: index.payloadBytes, rows: [])
        report.blasThreads = BLASThreads.count

        if let snapshotPath = options.snapshotPath {
            let saveStart = DispatchTime.now()
            try index.save(to: snapshotPath, generation: 1)
            report.snapshotSaveSeconds = seconds(since: saveStart)
            let loadStart = DispatchTime.now()
            let loaded = try HNSWIndex.load(from: snapshotPath)
            report.snapshotLoadSeconds = seconds(since: loadStart)
            report.snapshotBytes = try HNSWIndex.snapshotInfo(at: snapshotPath).fileBytes
            // The loaded graph must answer exactly as the built one.
            for q in 0..<min(queries.count, 20) {
                let query = Array(queries.values[q * base.dimension..<(q + 1) * base.dimension])
                guard try loaded.index.search(query, k: k).map(\.id) == index.search(query, k: k).map(\.id) else {
                    throw BenchmarkError("the snapshot loaded from \(snapshotPath) answers differently from the index it was saved from")
                }
            }
            try? FileManager.default.removeItem(atPath: snapshotPath)
        }

        // Warm caches and the scratch pool before timing.
        try measure(index: index, queries: queries, truth: truth, ef: options.efSearch.first ?? 10, limit: min(queries.count, 200))
        for ef in options.efSearch {
            var best = [DistanceKernel: Row]()
            for _ in 0..<max(1, options.repeats) {
                for kernel in options.kernels {
                    index.kernel = kernel
                    var row = try measure(index: index, queries: queries, truth: truth, ef: ef, limit: queries.count)
                    row.kernel = kernel
                    if row.qps > best[kernel]?.qps ?? 0 { best[kernel] = row }
                }
            }
            for kernel in options.kernels {
                let row = best[kernel]!
                progress(String(format: "%@ ef %d: recall %.4f, %.0f QPS", kernel.rawValue, ef, row.recall, row.qps))
                report.rows.append(row)
            }
        }
        if !options.filterFractions.isEmpty {
            index.kernel = options.kernels[0]
            report.filtered = try measureFiltered(index: index, base: base, queries: queries, progress: progress)
        }
        // Measured last: choosing the int8 kernel adds its codes.
        report.indexBytes = index.memoryBytes
        report.codeBytes = index.codeBytes
        let order = Dictionary(uniqueKeysWithValues: options.kernels.enumerated().map { ($1, $0) })
        report.rows.sort { (order[$0.kernel]!, $0.ef) < (order[$1.kernel]!, $1.ef) }
        return report
    }

    /// For each fraction, an allow-list of that share of the ids (picked by a hash of the id), exact filtered
    /// ground truth from the flat index, then the HNSW search under the same filter.
    private func measureFiltered(
        index: HNSWIndex, base: (dimension: Int, count: Int, values: [Float]), queries: (dimension: Int, count: Int, values: [Float]),
        progress: (String) -> Void
    ) throws -> [FilteredRow] {
        let k = options.k
        let d = base.dimension
        let queryCount = min(options.filteredQueries, queries.count)
        let flat = try FlatIndex(dimension: d, metric: options.metric)
        try flat.add(contentsOf: base.values, ids: (0..<base.count).map(UInt64.init))
        var rows = [FilteredRow]()
        for fraction in options.filterFractions {
            let allowed = Set((0..<UInt64(base.count)).filter { id in
                var z = id &* 0x9E37_79B9_7F4A_7C15
                z = (z ^ (z >> 31)) &* 0xBF58_476D_1CE4_E5B9
                return Double(z >> 11) / Double(1 << 53) < fraction
            })
            let filter = SearchFilter.allowList(allowed)
            var truth = [Set<UInt64>]()
            for q in 0..<queryCount {
                truth.append(Set(try flat.search(Array(queries.values[q * d..<(q + 1) * d]), k: k, filter: filter).map(\.id)))
            }
            let ef = max(k, 64)
            var best: FilteredRow?
            for _ in 0..<max(1, options.repeats) {
                var latencies = [Double]()
                var hits = 0
                var expected = 0
                let start = DispatchTime.now()
                for q in 0..<queryCount {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    let found = try index.search(Array(queries.values[q * d..<(q + 1) * d]), k: k, ef: ef, filter: filter)
                    latencies.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1000)
                    hits += found.filter { truth[q].contains($0.id) }.count
                    expected += truth[q].count
                }
                let elapsed = seconds(since: start)
                latencies.sort()
                let row = FilteredRow(
                    fraction: fraction, passing: allowed.count, ef: ef, recall: Double(hits) / Double(max(expected, 1)),
                    qps: Double(queryCount) / elapsed, p50Microseconds: latencies[latencies.count / 2],
                    p99Microseconds: latencies[min(latencies.count - 1, latencies.count * 99 / 100)])
                if row.qps > best?.qps ?? 0 { best = row }
            }
            progress(String(format: "filter %.1f%%: recall %.4f, %.0f QPS", fraction * 100, best!.recall, best!.qps))
            rows.append(best!)
        }
        return rows
    }

    private func groundTruth(
        base: (dimension: Int, count: Int, values: [Float]), queries: (dimension: Int, count: Int, values: [Float]),
        progress: (String) -> Void
    ) throws -> [[Int32]] {
        let k = options.k
        if let truthPath = options.truthPath, options.limitBase == nil {
            let truth = try VectorFile.readIntVectors(at: truthPath, limit: queries.count)
            guard truth.count == queries.count, truth.dimension >= k else {
                throw BenchmarkError("\(truthPath) has \(truth.count) rows of \(truth.dimension) ids; need \(queries.count) rows of at least \(k)")
            }
            return (0..<truth.count).map { Array(truth.values[$0 * truth.dimension..<$0 * truth.dimension + k]) }
        }
        progress("computing exact ground truth with the flat index")
        let flat = try FlatIndex(dimension: base.dimension, metric: options.metric)
        try flat.add(contentsOf: base.values, ids: (0..<base.count).map(UInt64.init))
        return try flat.search(batch: queries.values, k: k).map { $0.map { Int32($0.id) } }
    }

    @discardableResult
    private func measure(
        index: HNSWIndex, queries: (dimension: Int, count: Int, values: [Float]), truth: [[Int32]], ef: Int, limit: Int
    ) throws -> Row {
        let k = options.k
        let dimension = queries.dimension
        let threads = max(1, options.threads)
        let latencies = UnsafeMutableBufferPointer<Double>.allocate(capacity: limit)
        let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: limit)
        defer {
            latencies.deallocate()
            hits.deallocate()
        }
        let failure = LockedBox<(any Error)?>(nil)
        let start = DispatchTime.now()
        queries.values.withUnsafeBufferPointer { buffer in
            // Each worker writes its own query rows of `latencies` and `hits`.
            nonisolated(unsafe) let all = buffer
            nonisolated(unsafe) let latencies = latencies
            nonisolated(unsafe) let hits = hits
            let work: @Sendable (Int) -> Void = { worker in
                var q = worker
                while q < limit {
                    let query = UnsafeBufferPointer(rebasing: all[q * dimension..<(q + 1) * dimension])
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    do {
                        let found = try index.search(query, k: k, ef: ef)
                        let t1 = DispatchTime.now().uptimeNanoseconds
                        latencies[q] = Double(t1 - t0) / 1000
                        let expected = truth[q]
                        hits[q] = found.reduce(0) { $0 + (expected.contains(Int32($1.id)) ? 1 : 0) }
                    } catch {
                        failure.set(error)
                        return
                    }
                    q += threads
                }
            }
            if threads == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: threads, execute: work) }
        }
        let elapsed = seconds(since: start)
        if let error = failure.get() { throw error }
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.down)))] }
        return Row(
            ef: ef, recall: Double(hits.reduce(0, +)) / Double(limit * k), qps: Double(limit) / elapsed, p50Microseconds: percentile(0.5),
            p99Microseconds: percentile(0.99))
    }
}

func seconds(since start: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}

/// A benchmark that cannot run, with the reason.
public struct BenchmarkError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A value shared between benchmark worker threads.
final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func set(_ newValue: Value) { lock.withLock { value = newValue } }
    func get() -> Value { lock.withLock { value } }
}
