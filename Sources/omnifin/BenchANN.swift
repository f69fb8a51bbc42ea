import ArgumentParser
import Foundation
import Index
import OmnifinBenchmarks

struct BenchANN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ann",
        abstract: "Build the HNSW index over a base set and measure recall@k, QPS and latency per efSearch.",
        discussion: """
            Vector files are TEXMEX .fvecs/.ivecs. OpenBLAS runs one thread per call whatever OPENBLAS_NUM_THREADS \
            says (the first line of the output shows it): Omnifin's own threads (--threads, --build-threads) are the \
            parallelism.

            Example (the shipped 100k MiniLM set):
              DATA=../shared/data/ann/pypi-minilm-100k
              omnifin bench ann --base $DATA/base.fvecs --query $DATA/query.fvecs \\
                --truth $DATA/groundtruth.ivecs --m 16 --ef-construction 200 \\
                --ef 10,20,40,80,160,320 --k 10 --threads 1 --build-threads 2
            """
    )

    @Option(help: "Base vectors (.fvecs).") var base: String
    @Option(help: "Query vectors (.fvecs).") var query: String
    @Option(help: "Exact neighbour ids (.ivecs); computed exactly when omitted or when --limit-base is given.") var truth: String?
    @Option(help: "cosine, ip or l2.") var metric: String = "cosine"
    @Option(help: "Links per node (level 0 keeps 2·m).") var m: Int = 16
    @Option(name: .customLong("ef-construction"), help: "Candidate list size while building.") var efConstruction: Int = 200
    @Option(help: "Comma-separated efSearch values.") var ef: String = "10,20,40,80,160,320"
    @Option(help: "Neighbours per query.") var k: Int = 10
    @Option(help: "Search threads.") var threads: Int = 1
    @Option(name: .customLong("build-threads"), help: "Insert threads (defaults to --threads).") var buildThreads: Int?
    @Option(name: .customLong("limit-base"), help: "Use only the first N base vectors.") var limitBase: Int?
    @Option(name: .customLong("limit-query"), help: "Use only the first N queries.") var limitQuery: Int?
    @Option(help: "Also time saving and loading a snapshot at this path (the file is removed afterwards).") var snapshot: String?
    @Option(help: "Search this snapshot instead of building (it is built and saved there when missing).") var index: String?
    @Option(name: .customLong("repeat"), help: "Time each ef this many times and keep the fastest pass.") var repeats: Int = 3
    @Option(help: "Neighbour-scoring kernels, comma-separated: blas-dot, blas-gemv, simd, int8, int4; several alternate in one run, the first is the index's own.")
    var kernel: String = "int4"
    @Option(name: .customLong("filter-percent"), help: "Also measure searches under allow-lists passing these percentages, e.g. 1,5,20,50.")
    var filterPercent: String?
    @Flag(help: "Print one JSON document instead of the table.") var json = false

    func validate() throws {
        guard Metric(rawValue: metric) != nil else { throw ValidationError("--metric must be cosine, ip or l2 (got '\(metric)')") }
        guard !efValues.isEmpty, efValues.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--ef must be a comma-separated list of positive integers (got '\(ef)')")
        }
        guard !kernels.isEmpty, kernels.count == kernel.split(separator: ",").count else {
            throw ValidationError("--kernel must list blas-dot, blas-gemv, simd, int8 or int4 (got '\(kernel)')")
        }
        guard k > 0 else { throw ValidationError("--k must be at least 1") }
        guard repeats > 0 else { throw ValidationError("--repeat must be at least 1") }
        if let filterPercent, let fractions = filterFractions {
            guard !fractions.isEmpty, fractions.count == filterPercent.split(separator: ",").count, fractions.allSatisfy({ $0 > 0 && $0 <= 1 })
            else { throw ValidationError("--filter-percent must list percentages in (0, 100] (got '\(filterPercent)')") }
        }
        guard threads > 0, (buildThreads ?? 1) > 0 else { throw ValidationError("--threads and --build-threads must be at least 1") }
        if let limitBase, limitBase < 1 { throw ValidationError("--limit-base must be at least 1") }
        if let limitQuery, limitQuery < 1 { throw ValidationError("--limit-query must be at least 1") }
    }

    private var filterFractions: [Double]? {
        filterPercent.map { $0.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }.map { $0 / 100 } }
    }

    private var kernels: [DistanceKernel] { kernel.split(separator: ",").compactMap { DistanceKernel(rawValue: String($0)) } }

    private var efValues: [Int] { ef.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func run() throws {
        var options = ANNBenchmark.Options(basePath: base, queryPath: query, truthPath: truth)
        options.metric = Metric(rawValue: metric)!
        options.m = m
        options.efConstruction = efConstruction
        options.efSearch = efValues
        options.k = k
        options.threads = threads
        options.buildThreads = buildThreads ?? threads
        options.limitBase = limitBase
        options.limitQuery = limitQuery
        options.snapshotPath = snapshot
        options.indexPath = index
        options.repeats = repeats
        options.kernels = kernels
        options.filterFractions = filterFractions ?? []
        let report: ANNBenchmark.Report
        do {
            report = try ANNBenchmark(options: options).run { line in
                if !json { FileHandle.standardError.write(Data("… \(line)\n".utf8)) }
            }
        } catch let error as IndexError {
            throw ValidationError(error.message)
        }
        print(json ? report.json : report.table)
    }
}
