import Foundation
import Index
public import Storage

extension KnowledgeBank {
    /// Searches the passages `rights` may see.
    ///
    /// Dense (HNSW over the embeddings), BM25, or both fused. The caller's rights reach both retrievers as a
    /// filter, so ranks, scores and counts are computed among visible passages only.
    /// - Throws: ``KnowledgeBankError/invalidInput(_:field:)`` for an empty query or a `k` out of range;
    ///   embedding errors for dense and hybrid searches.
    public func search(_ query: KnowledgeQuery, rights: AccessRights) async throws -> [KnowledgeHit] {
        let text = query.text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw KnowledgeBankError.invalidInput("the query is empty", field: "query") }
        guard text.utf8.count <= 10_000 else { throw KnowledgeBankError.invalidInput("the query is longer than 10,000 bytes", field: "query") }
        guard (1...1_000).contains(query.k) else { throw KnowledgeBankError.invalidInput("k must be between 1 and 1000", field: "k") }
        let depth = min(max(query.depth, query.k), 10_000)

        let (allowedGroups, groupOfChunk, index, exact, denseOff) = read { state -> (Set<Int32>?, [UInt64: Int32], HNSWIndex?, FlatIndex?, Bool) in
            let visible = Set(state.lists.indices.filter { rights.canSee(state.lists[$0]) }.map(Int32.init))
            let allowed: Set<Int32>? = visible.count == state.lists.count ? nil : visible
            return (allowed, allowed == nil ? [:] : state.groupOfChunk, state.index, state.exact, state.modelMismatch != nil)
        }
        if let allowedGroups, allowedGroups.isEmpty { return [] }
        // Misspelt words are searched as the words the caller's passages hold (`reciept` → `receipt`): the keyword
        // index gets both, the embedding the corrected text.
        let correction = query.correctSpelling ? bm25.corrected(text, allowedGroups: allowedGroups) : (text: text, corrections: [])
        // Acronyms the bank defines are searched with what they stand for (`GRNI` → `goods received not invoiced`).
        let expansions = query.correctSpelling ? bm25.expansions(text, allowedGroups: allowedGroups).map(\.expansion) : []
        let additions = correction.corrections.map(\.to) + expansions
        let keywords = additions.isEmpty ? text : text + " " + additions.joined(separator: " ")
        let embedded = expansions.isEmpty ? correction.text : correction.text + " (" + expansions.joined(separator: "; ") + ")"
        if query.mode == .dense, denseOff, let mismatch = modelMismatch { throw KnowledgeBankError.modelMismatch(mismatch) }

        var lists: [[HybridFusion.Ranked]] = []
        var denseList: Int?
        var bm25List: Int?
        if query.mode != .bm25, !denseOff, let index, index.count > 0 {
            let vector: [Float]
            let cache = queryCache
            do {
                if let cached = await cache?.vector(model: embedder.modelName, text: embedded) {
                    vector = cached
                } else {
                    guard let first = try await embedTimed([embedded], purpose: "query").first else { throw KnowledgeBankError.embeddingFailed("no vector") }
                    vector = first
                    await cache?.remember(first, model: embedder.modelName, text: embedded)
                }
            } catch let error as KnowledgeBankError {
                throw error
            } catch {
                throw KnowledgeBankError.embeddingFailed("embedding the query with \(embedder.modelName) failed: \(error)")
            }
            let filter: SearchFilter? = allowedGroups.map { allowed in .predicate { id in groupOfChunk[id].map(allowed.contains) ?? false } }
            do {
                let results =
                    if query.exact, let exact {
                        try exact.search(vector, k: depth, filter: filter)
                    } else {
                        try index.search(vector, k: depth, ef: max(configuration.hnsw.efSearch, depth), filter: filter)
                    }
                denseList = lists.count
                lists.append(results.map { HybridFusion.Ranked(key: $0.id, score: Double($0.score)) })
            } catch {
                throw KnowledgeBankError.indexFailed("the vector search failed: \(error)")
            }
        }
        if query.mode != .dense {
            bm25List = lists.count
            lists.append(bm25.search(keywords, k: depth, allowedGroups: allowedGroups).map { HybridFusion.Ranked(key: $0.id, score: Double($0.score)) })
        }
        guard !lists.isEmpty else { return [] }

        // Per document: each ranking keeps a document's best passage only, then the document rankings are fused.
        var bestPassage: [UInt64: UInt64] = [:]
        if query.perDocument {
            let documentOfChunk = read { $0.documentOfChunk }
            var documentKeys: [String: UInt64] = [:]
            lists = lists.map { list in
                var seen = Set<UInt64>()
                var collapsed: [HybridFusion.Ranked] = []
                for item in list {
                    guard let documentID = documentOfChunk[item.key] else { continue }
                    let key = documentKeys[documentID] ?? {
                        let next = UInt64(documentKeys.count)
                        documentKeys[documentID] = next
                        return next
                    }()
                    if seen.insert(key).inserted {
                        collapsed.append(HybridFusion.Ranked(key: key, score: item.score))
                        if bestPassage[key] == nil { bestPassage[key] = item.key }
                    }
                }
                return collapsed
            }
        }

        let fused: [HybridFusion.Fused] =
            lists.count == 1
            ? lists[0].prefix(query.k).enumerated().map { HybridFusion.Fused(key: $0.element.key, score: $0.element.score, ranks: [$0.offset + 1], scores: [$0.element.score]) }
            : HybridFusion.fuse(lists, fusion: query.fusion, k: query.k)

        let chunkIDs = fused.map { query.perDocument ? bestPassage[$0.key]! : $0.key }
        var records: [Int64: ChunkRecord] = [:]
        if query.withText {
            var missing: [Int64] = []
            for id in chunkIDs.map({ Int64($0) }) {
                if let record = passageCache.value(for: id) { records[id] = record } else { missing.append(id) }
            }
            if !missing.isEmpty {
                for record in try await store.chunks(ids: missing) {
                    records[record.id] = record
                    passageCache.insert(record, for: record.id)
                }
            }
        }
        return read { state in
            zip(fused, chunkIDs).compactMap { item, chunkID -> KnowledgeHit? in
                guard let documentID = state.documentOfChunk[chunkID], let document = state.documents[documentID] else { return nil }
                let record = records[Int64(chunkID)]
                if query.withText && record == nil { return nil }  // deleted while we searched
                return KnowledgeHit(
                    documentID: documentID, title: document.title, source: document.source, chunkID: Int64(chunkID), ordinal: record?.ordinal ?? 0, passage: record?.text ?? "",
                    start: record?.start ?? 0, end: record?.end ?? 0, score: item.score,
                    denseRank: denseList.flatMap { item.ranks[$0] }, denseScore: denseList.flatMap { item.scores[$0] },
                    bm25Rank: bm25List.flatMap { item.ranks[$0] }, bm25Score: bm25List.flatMap { item.scores[$0] })
            }
        }
    }
}
