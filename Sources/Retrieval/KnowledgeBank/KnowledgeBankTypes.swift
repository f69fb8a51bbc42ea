public import Foundation
public import Storage

/// A document as a caller hands it to the knowledge bank.
public struct DocumentInput: Sendable, Equatable {
    /// Omnifin's id; `nil` finds the document by `(source, externalID)` or creates a new one.
    public var id: String?
    public var source: String
    public var externalID: String?
    public var title: String
    public var body: String
    public var kind: DocumentKind
    public var metadata: [String: String]
    /// Who may see the document; `nil` keeps the stored list of an existing document (a new one is open to every
    /// signed-in user), so an update that does not mention access never widens it.
    public var access: AccessList?

    public init(
        id: String? = nil, source: String = "manual", externalID: String? = nil, title: String, body: String, kind: DocumentKind = .text,
        metadata: [String: String] = [:], access: AccessList? = nil
    ) {
        self.id = id
        self.source = source
        self.externalID = externalID
        self.title = title
        self.body = body
        self.kind = kind
        self.metadata = metadata
        self.access = access
    }
}

/// What an upsert did to one document.
public struct UpsertOutcome: Sendable, Equatable {
    public enum Change: String, Sendable, Equatable {
        /// A new document.
        case created
        /// The text changed: re-chunked; only passages whose text changed were embedded again.
        case updated
        /// Only the title-free fields changed (metadata, access list): no re-embedding.
        case metadataUpdated = "metadata_updated"
        /// Nothing changed; nothing was written.
        case unchanged
        /// The input names a document (by id, or by source and external id) that the writer may not see: nothing was
        /// written, and the writer learns nothing of it.
        case refused
    }

    public var documentID: String
    public var change: Change
    public var chunks: Int
    /// Passages embedded by this call (the rest reused stored embeddings).
    public var embedded: Int
    /// The access list before the write (`nil` for a new document) and after it: a change between the two is worth
    /// an audit entry, a widening above all.
    public var previousAccess: AccessList?
    public var access: AccessList?

    /// Whether the write lets someone see the document who could not before.
    public var widensAccess: Bool {
        guard let previousAccess, let access, previousAccess != access else { return false }
        if access.isEveryone { return true }
        if previousAccess.isEveryone { return false }
        return !Set(access.principals).isSubset(of: Set(previousAccess.principals))
    }
}

/// How start-up built the in-memory indexes.
public struct OpenReport: Sendable, CustomStringConvertible {
    public enum IndexSource: Sendable, Equatable {
        case empty
        case snapshot(path: String)
        case rebuilt(reason: String)
    }

    public var documents: Int
    public var chunks: Int
    public var generation: Int64
    public var indexSource: IndexSource
    public var seconds: Double
    /// Set when the stored embeddings come from another model than the configured one.
    public var modelMismatch: String?

    public var description: String {
        var text: String
        switch indexSource {
        case .empty: text = "knowledge bank empty"
        case .snapshot(let path): text = "loaded index snapshot \(path)"
        case .rebuilt(let reason): text = "rebuilt the index from stored embeddings (\(reason))"
        }
        text += String(format: ": %d documents, %d passages, generation %lld, %.2f s", documents, chunks, generation, seconds)
        if let modelMismatch { text += "; " + modelMismatch }
        return text
    }
}

/// Which retrievers answer a search.
public enum RetrievalMode: String, Sendable, CaseIterable, Codable {
    case dense, bm25, hybrid
}

/// How hybrid search combines the two rankings.
///
/// The default is `weighted(denseWeight: 0.5)`: on SciFact it reaches nDCG@10 0.738 against 0.719 for
/// reciprocal rank fusion, on a plateau (0.736 at 0.4, 0.730 at 0.6), as Bruch et al. (2023) found for convex
/// combinations across BEIR. Reciprocal rank fusion stays available.
public enum Fusion: Sendable, Equatable {
    /// Reciprocal rank fusion: `Σ 1 / (k + rank)`; robust, needs no score calibration.
    case reciprocalRank(k: Double = 60)
    /// Scores min-max normalised per retriever, then `denseWeight · dense + (1 − denseWeight) · bm25`.
    case weighted(denseWeight: Double = 0.5)
}

/// A search of the knowledge bank.
public struct KnowledgeQuery: Sendable {
    public var text: String
    public var k: Int
    public var mode: RetrievalMode
    public var fusion: Fusion
    /// How deep each retriever ranks before fusion: by default ``defaultDepth(k:)``.
    public var depth: Int
    /// One hit per document (its best passage) instead of passages.
    public var perDocument: Bool
    /// Dense search by exact scan instead of HNSW (for measuring what the index loses).
    public var exact: Bool
    /// Fetch the passage texts (off for evaluation, where only ids matter).
    public var withText: Bool
    /// Search misspelt words as the words of the bank they are one edit from (`reciept` → `receipt`).
    public var correctSpelling: Bool

    /// Passages each retriever ranks before fusion when the caller does not say: max(50, 2·k). On SciFact (k 10) hybrid
    /// nDCG@10 is 0.736 at 50 against 0.734 at 100 and 0.726 at 20 (docs/knowledge-bank.md "Search depth").
    public static func defaultDepth(k: Int) -> Int { max(50, 2 * k) }

    public init(
        _ text: String, k: Int = 10, mode: RetrievalMode = .hybrid, fusion: Fusion = .weighted(), depth: Int? = nil,
        perDocument: Bool = false, exact: Bool = false, withText: Bool = true, correctSpelling: Bool = true
    ) {
        self.text = text
        self.k = k
        self.mode = mode
        self.fusion = fusion
        self.depth = depth ?? Self.defaultDepth(k: k)
        self.perDocument = perDocument
        self.exact = exact
        self.withText = withText
        self.correctSpelling = correctSpelling
    }
}

/// A passage found by a search, with everything an answer needs to cite it.
public struct KnowledgeHit: Sendable, Equatable {
    public var documentID: String
    public var title: String
    /// The document's source (`corpora`, `salesforce`, …).
    public var source: String
    public var chunkID: Int64
    public var ordinal: Int
    /// The passage (empty when the query asked for no text).
    public var passage: String
    public var start: Int
    public var end: Int
    /// The fused score (for a single retriever, its own score).
    public var score: Double
    /// 1-based ranks and scores per retriever; `nil` when that retriever did not rank the passage.
    public var denseRank: Int?
    public var denseScore: Double?
    public var bm25Rank: Int?
    public var bm25Score: Double?
}

extension KnowledgeHit {
    /// The hits that plausibly answer: those that share a word with the query (a BM25 match) or whose passage is
    /// close in meaning (dense cosine at least `cosine`, the chat's relevance threshold). A query of nonsense words
    /// ("zorblax quuxifier") matches nothing, instead of listing whatever happens to be nearest.
    public static func aboveFloor(_ hits: [KnowledgeHit], cosine: Double) -> [KnowledgeHit] {
        hits.filter { $0.bm25Rank != nil || ($0.denseScore ?? -1) >= cosine }
    }
}

