public import Foundation
public import Index
public import Logging
import Metrics
import Synchronization
public import Storage

/// The knowledge bank: the store (source of truth) kept in step with the in-memory vector and BM25 indexes.
///
/// Writes go to the store first, in one transaction per batch, then to the indexes; a crash between the two
/// leaves the store ahead, which start-up notices (the snapshot's generation is older) and repairs by
/// rebuilding from stored embeddings. One write runs at a time; searches run concurrently with everything.
public final class KnowledgeBank: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var hnsw: HNSWConfigurationTemplate
        public var bm25: BM25Index.Parameters
        /// Where the vector index snapshot lives; `nil`: never snapshot, always rebuild at start-up.
        public var snapshotPath: String?
        /// Keep an exact (flat) index beside HNSW, for `KnowledgeQuery.exact` (evaluation).
        public var keepExactIndex: Bool
        /// Texts per embedding call; a cancelled write stops between calls, so this bounds how long it runs on (32
        /// passages: about a second on two cores).
        public var embeddingBatch: Int
        /// Threads that build the vector index at start-up.
        public var buildThreads: Int
        /// The largest document body, in UTF-8 bytes (`OMNIFIN_MAX_DOCUMENT_BYTES`, default 2 MB): a larger one is
        /// refused with a message naming the limit (split it into several documents).
        public var maximumDocumentBytes: Int

        public static let defaultMaximumDocumentBytes = 2 << 20

        public init(
            hnsw: HNSWConfigurationTemplate = HNSWConfigurationTemplate(), bm25: BM25Index.Parameters = BM25Index.Parameters(),
            snapshotPath: String? = nil, keepExactIndex: Bool = false, embeddingBatch: Int = 32,
            buildThreads: Int = ProcessInfo.processInfo.activeProcessorCount, maximumDocumentBytes: Int = Configuration.defaultMaximumDocumentBytes
        ) {
            self.maximumDocumentBytes = max(1, maximumDocumentBytes)
            self.hnsw = hnsw
            self.bm25 = bm25
            self.snapshotPath = snapshotPath
            self.keepExactIndex = keepExactIndex
            self.embeddingBatch = max(1, embeddingBatch)
            self.buildThreads = max(1, buildThreads)
        }
    }

    /// The HNSW parameters; the dimension comes from the embeddings.
    public struct HNSWConfigurationTemplate: Sendable {
        public var m: Int
        public var efConstruction: Int
        public var efSearch: Int

        public init(m: Int = 16, efConstruction: Int = 200, efSearch: Int = 96) {
            self.m = m
            self.efConstruction = efConstruction
            self.efSearch = efSearch
        }

        func configuration(dimension: Int) -> HNSWConfiguration {
            HNSWConfiguration(dimension: dimension, metric: .cosine, m: m, efConstruction: efConstruction, efSearch: efSearch)
        }
    }

    struct DocumentEntry: Sendable {
        var id: String
        var source: String
        var externalID: String?
        var title: String
        var access: AccessList
        var group: Int32
        var contentHash: String
        var chunkIDs: [Int64]
    }

    struct State: Sendable {
        var documents: [String: DocumentEntry] = [:]
        var documentOfKey: [String: String] = [:]
        var documentOfChunk: [UInt64: String] = [:]
        var groupOfChunk: [UInt64: Int32] = [:]
        var groupOfList: [AccessList: Int32] = [:]
        var lists: [AccessList] = []
        var generation: Int64 = 0
        var index: HNSWIndex?
        var exact: FlatIndex?
        var modelMismatch: String?

        mutating func group(for access: AccessList) -> Int32 {
            if let group = groupOfList[access] { return group }
            let group = Int32(lists.count)
            lists.append(access)
            groupOfList[access] = group
            return group
        }

        static func key(source: String, externalID: String) -> String { source + "\u{1F}" + externalID }
    }

    let store: any KnowledgeStore
    public let embedder: any Embedder
    public let chunker: Chunker
    public let configuration: Configuration
    let bm25: BM25Index
    let logger: Logger
    let gate = WriteGate()
    let lock = ReadWriteLock()
    /// Guarded by `lock`.
    var state = State()
    private let queryCacheState = Mutex<(any QueryVectorCache)?>(EmbeddingCache(capacity: 10_000))
    /// Passages recently returned by searches, by chunk id: a chunk id is never reused and its text never changes, so
    /// an entry cannot go stale (a deleted chunk is no longer in the index, and hits are checked against the state).
    /// Spares the store a read for the passages popular questions keep finding.
    let passageCache = LRUCache<Int64, ChunkRecord>(capacity: 20_000)

    /// Where query vectors are remembered: 10,000 in this process's memory unless replaced (the server puts them in
    /// Redis when it has one); `nil` embeds every query.
    public var queryCache: (any QueryVectorCache)? {
        get { queryCacheState.withLock { $0 } }
        set { queryCacheState.withLock { $0 = newValue } }
    }

    init(store: any KnowledgeStore, embedder: any Embedder, chunker: Chunker, configuration: Configuration, logger: Logger) {
        self.store = store
        self.embedder = embedder
        self.chunker = chunker
        self.configuration = configuration
        self.logger = logger
        bm25 = BM25Index(parameters: configuration.bm25)
    }

    /// Opens the knowledge bank over `store`: loads the index snapshot when its generation matches the store,
    /// otherwise rebuilds the indexes from stored embeddings (never re-embedding), and reports which happened.
    ///
    /// When the stored embeddings come from another model than `embedder`, the report says so, dense search is
    /// off (hybrid searches use BM25 alone) and writes are refused until ``reindex(progress:)`` has run.
    public static func open(
        store: any KnowledgeStore, embedder: any Embedder, chunker: Chunker, configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "omnifin.knowledge")
    ) async throws -> (KnowledgeBank, OpenReport) {
        let bank = KnowledgeBank(store: store, embedder: embedder, chunker: chunker, configuration: configuration, logger: logger)
        let report = try await bank.load()
        logger.info("\(report)")
        return (bank, report)
    }

    /// A chunker that measures with the built-in embedder's tokenizer when there is one, else by words.
    public static func defaultChunker(for embedder: any Embedder) -> Chunker {
        if let builtin = embedder as? BuiltinEmbedder { return Chunker(tokenizer: builtin.tokenizer) }
        if let cached = embedder as? CachedEmbedder, let builtin = cached.base as? BuiltinEmbedder { return Chunker(tokenizer: builtin.tokenizer) }
        // About 1.3 word pieces per English word.
        return Chunker { text in (text.split(whereSeparator: \.isWhitespace).count * 13 + 9) / 10 }
    }

    func read<T>(_ body: (State) throws -> T) rethrows -> T { try lock.withReadLock { try body(state) } }
    func mutate<T>(_ body: (inout State) throws -> T) rethrows -> T { try lock.withWriteLock { try body(&state) } }

    /// Documents in the bank.
    public var documentCount: Int { read { $0.documents.count } }
    /// Passages in the BM25 index (every stored chunk).
    public var passageCount: Int { bm25.count }

    /// The terms of `text` as the keyword index analyses them (lower-cased, stop words dropped, Porter stems), each
    /// with its inverse document frequency among the passages `rights` may see (nil for a term none holds): how
    /// telling a word of a question is in this knowledge bank.
    public func termWeights(_ text: String, rights: AccessRights) -> [(term: String, idf: Double?)] {
        bm25.weights(text, allowedGroups: allowedGroups(rights))
    }

    /// How many distinct terms the bank's passages hold: below a few thousand, a word missing from the bank says
    /// little about whether the bank covers a subject.
    public var vocabularySize: Int { bm25.termCount }

    /// `text` with misspelt words corrected against the words of the passages `rights` may see (see
    /// ``BM25Index/corrected(_:allowedGroups:)``).
    public func corrected(_ text: String, rights: AccessRights) -> (text: String, corrections: [(from: String, to: String)]) {
        bm25.corrected(text, allowedGroups: allowedGroups(rights))
    }

    /// The access groups `rights` may see; nil when that is all of them.
    func allowedGroups(_ rights: AccessRights) -> Set<Int32>? {
        read { state in
            let visible = Set(state.lists.indices.filter { rights.canSee(state.lists[$0]) }.map(Int32.init))
            return visible.count == state.lists.count ? nil : visible
        }
    }

    public var generation: Int64 { read { $0.generation } }
    /// Set while the stored embeddings come from another model than the configured one.
    public var modelMismatch: String? { read { $0.modelMismatch } }
    /// Vectors in the HNSW index.
    public var vectorCount: Int { read { $0.index?.count ?? 0 } }

    // MARK: Start-up

    func load() async throws -> OpenReport {
        let started = ContinuousClock.now
        let generation = try await store.knowledgeGeneration()
        let models = try await store.embeddingModels()
        var mismatch: String?
        if let other = models.first(where: { $0.model != embedder.modelName }) {
            mismatch = "stored passages were embedded with \(other.model) (\(other.chunks) passages) but the configured embedder is "
                + "\(embedder.modelName): dense search is off and writes are refused until `omnifin reindex` re-embeds them"
        }

        bm25.removeAll()
        var loaded = State()
        loaded.generation = generation
        loaded.modelMismatch = mismatch
        var cursor: String?
        while true {
            let page = try await store.documents(after: cursor, limit: 1_000, source: nil)
            guard let last = page.last else { break }
            for document in page {
                let group = loaded.group(for: document.access)
                loaded.documents[document.id] = DocumentEntry(
                    id: document.id, source: document.source, externalID: document.externalID, title: document.title, access: document.access,
                    group: group, contentHash: document.contentHash, chunkIDs: [])
                if let externalID = document.externalID { loaded.documentOfKey[State.key(source: document.source, externalID: externalID)] = document.id }
            }
            cursor = last.id
        }

        // The snapshot is used only when it was taken at exactly this store generation and matches the model.
        var snapshot: HNSWIndex?
        var reason = "no snapshot configured"
        let dimension = models.first?.dimension
        if mismatch == nil, let path = configuration.snapshotPath {
            if !FileManager.default.fileExists(atPath: path) {
                reason = "no snapshot at \(path)"
            } else {
                do {
                    let info = try HNSWIndex.snapshotInfo(at: path)
                    if info.generation != UInt64(generation) {
                        reason = "snapshot \(path) is of generation \(info.generation), the store is at \(generation)"
                    } else if info.configuration.dimension != dimension ?? info.configuration.dimension {
                        reason = "snapshot \(path) has dimension \(info.configuration.dimension), the store \(dimension ?? 0)"
                    } else {
                        snapshot = try HNSWIndex.load(from: path).index
                    }
                } catch {
                    reason = "snapshot \(path) is unusable: \(error)"
                    logger.warning("\(reason); rebuilding from the store")
                }
            }
        }

        var index = snapshot
        var exact: FlatIndex?
        var passages: [(id: UInt64, text: String, group: Int32)] = []
        var vectors: [Float] = []
        var vectorIDs: [UInt64] = []
        let needVectors = mismatch == nil && (snapshot == nil || configuration.keepExactIndex)
        var after: Int64 = 0
        var chunkTotal = 0
        while true {
            let page = try await store.chunks(after: after, limit: 5_000, withEmbeddings: needVectors)
            guard let last = page.last else { break }
            after = last.id
            for chunk in page {
                guard let document = loaded.documents[chunk.documentID] else { continue }
                let id = UInt64(chunk.id)
                loaded.documents[chunk.documentID]?.chunkIDs.append(chunk.id)
                loaded.documentOfChunk[id] = chunk.documentID
                loaded.groupOfChunk[id] = document.group
                passages.append((id, Chunker.indexedText(title: document.title, passage: chunk.text), document.group))
                if needVectors, let embedding = chunk.embedding {
                    vectors += embedding.vector
                    vectorIDs.append(id)
                }
                chunkTotal += 1
            }
            bm25.add(contentsOf: passages)
            passages.removeAll(keepingCapacity: true)
            if needVectors, let dimension = page.first?.embedding?.dimension, !vectorIDs.isEmpty {
                do {
                    if snapshot == nil {
                        if index == nil { index = try HNSWIndex(configuration: configuration.hnsw.configuration(dimension: dimension)) }
                        try index!.add(contentsOf: vectors, ids: vectorIDs, threads: configuration.buildThreads)
                    }
                    if configuration.keepExactIndex {
                        if exact == nil { exact = try FlatIndex(dimension: dimension, metric: .cosine) }
                        try exact!.add(contentsOf: vectors, ids: vectorIDs)
                    }
                } catch {
                    throw KnowledgeBankError.indexFailed("building the vector index failed: \(error)")
                }
                vectors.removeAll(keepingCapacity: true)
                vectorIDs.removeAll(keepingCapacity: true)
            }
        }
        if let snapshot, snapshot.count != chunkTotal {
            // A snapshot of the right generation with the wrong content is not trusted either.
            logger.warning("snapshot holds \(snapshot.count) vectors, the store \(chunkTotal); rebuilding")
            mutate { $0 = loaded }
            return try await rebuildVectors(reason: "snapshot holds \(snapshot.count) vectors, the store \(chunkTotal)", started: started)
        }
        loaded.index = index
        loaded.exact = exact
        mutate { $0 = loaded }

        let source: OpenReport.IndexSource =
            if chunkTotal == 0 { .empty } else if snapshot != nil, let path = configuration.snapshotPath { .snapshot(path: path) } else {
                .rebuilt(reason: mismatch != nil ? "model mismatch: BM25 only" : reason)
            }
        return OpenReport(
            documents: loaded.documents.count, chunks: chunkTotal, generation: generation, indexSource: source,
            seconds: (ContinuousClock.now - started).inSeconds, modelMismatch: mismatch)
    }

    /// Rebuilds the vector index from stored embeddings (the BM25 index is already current).
    private func rebuildVectors(reason: String, started: ContinuousClock.Instant) async throws -> OpenReport {
        var index: HNSWIndex?
        var after: Int64 = 0
        while true {
            let page = try await store.chunks(after: after, limit: 5_000, withEmbeddings: true)
            guard let last = page.last else { break }
            after = last.id
            let usable = page.filter { $0.embedding != nil }
            guard let dimension = usable.first?.embedding?.dimension else { continue }
            do {
                if index == nil { index = try HNSWIndex(configuration: configuration.hnsw.configuration(dimension: dimension)) }
                try index!.add(
                    contentsOf: usable.flatMap { $0.embedding!.vector }, ids: usable.map { UInt64($0.id) }, threads: configuration.buildThreads)
            } catch {
                throw KnowledgeBankError.indexFailed("building the vector index failed: \(error)")
            }
        }
        mutate { $0.index = index }
        let snapshot = read { $0 }
        return OpenReport(
            documents: snapshot.documents.count, chunks: snapshot.documentOfChunk.count, generation: snapshot.generation,
            indexSource: .rebuilt(reason: reason), seconds: (ContinuousClock.now - started).inSeconds, modelMismatch: snapshot.modelMismatch)
    }

    /// Writes the vector index snapshot, stamped with the store generation it reflects.
    ///
    /// Runs between writes, so the snapshot and its generation always agree.
    /// - Returns: the path written, or `nil` when no snapshot path is configured or the index is empty.
    @discardableResult
    public func saveSnapshot() async throws -> String? {
        guard let path = configuration.snapshotPath else { return nil }
        return try await gate.run {
            let (index, generation) = self.read { ($0.index, $0.generation) }
            guard let index else { return nil }
            do {
                try FileManager.default.createDirectory(
                    atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
                try index.save(to: path, generation: UInt64(generation))
            } catch {
                throw KnowledgeBankError.indexFailed("writing the snapshot \(path) failed: \(error)")
            }
            return path
        }
    }
}

extension Duration {
    /// The duration in seconds, for reports (package-wide: the command-line tool reports with it too).
    package var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension KnowledgeBank {
    /// Embeds through the bank's embedder, timed as `omnifin_embedder_duration_seconds{model, purpose}` (swift-metrics;
    /// the server exports it to Prometheus).
    func embedTimed(_ texts: [String], purpose: String) async throws -> [[Float]] {
        let started = ContinuousClock.now
        defer {
            let elapsed = ContinuousClock.now - started
            Metrics.Timer(label: "omnifin_embedder_duration_seconds", dimensions: [("model", embedder.modelName), ("purpose", purpose)])
                .recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
            Counter(label: "omnifin_embedder_texts_total", dimensions: [("model", embedder.modelName), ("purpose", purpose)]).increment(by: texts.count)
        }
        return try await embedder.embed(texts)
    }
}
