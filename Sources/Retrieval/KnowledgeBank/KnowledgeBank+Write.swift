import Logging
public import Foundation
import Index
public import Storage

extension KnowledgeBank {
    /// Adds or updates documents as a writer with `rights`: one store transaction for the batch, then the indexes.
    ///
    /// A document is found by `id`, else by `(source, externalID)`, else created. A document the writer may not see
    /// is left alone (``UpsertOutcome/Change/refused``), exactly as the reads hide it. Unchanged documents write
    /// nothing; a change of metadata or access list only is written without re-chunking; a change of text is
    /// re-chunked and only the passages whose text changed are embedded again. An input without an access list keeps
    /// the stored one. Cancelling the calling task stops the embedding between batches; nothing is written then.
    /// - Parameters:
    ///   - rights: whose write this is (``AccessRights/everything`` for the operator's command line).
    ///   - progress: called after each embedding batch with the passages embedded so far and the total to embed.
    /// - Throws: ``KnowledgeBankError/invalidInput(_:field:)`` or ``KnowledgeBankError/tooLarge(_:field:)`` naming the
    ///   field at fault (nothing is written), ``KnowledgeBankError/modelMismatch(_:)``, `CancellationError`, embedding
    ///   and ``StoreError``s.
    public func upsert(
        _ inputs: [DocumentInput], rights: AccessRights, progress: @Sendable (_ embedded: Int, _ total: Int) async -> Void = { _, _ in }
    ) async throws -> [UpsertOutcome] {
        for (position, input) in inputs.enumerated() {
            if let problem = check(input, position: inputs.count > 1 ? position : nil) { throw problem }
        }
        return try await gate.run { try await self.upsertLocked(inputs, rights: rights, progress: progress) }
    }

    /// Why the knowledge bank would refuse `input` (a bad field, a body above the size limit), or `nil`.
    public func check(_ input: DocumentInput) -> KnowledgeBankError? { check(input, position: nil) }

    private func check(_ input: DocumentInput, position: Int?) -> KnowledgeBankError? {
        do {
            try Self.validate(input, position: position, maximumBytes: configuration.maximumDocumentBytes)
            return nil
        } catch {
            return error
        }
    }

    /// Deletes the documents with these ids that `rights` may see; unknown and hidden ids are skipped alike.
    /// - Returns: the ids that existed and were deleted.
    @discardableResult
    public func delete(ids: [String], rights: AccessRights) async throws -> [String] {
        try await gate.run {
            try await self.catchUpLocked()
            let known = self.read { state in ids.filter { id in state.documents[id].map { rights.canSee($0.access) } ?? false } }
            guard !known.isEmpty else { return [] }
            let result = try await self.store.write(Array(Set(known)).sorted().map { .delete(documentID: $0) })
            try await self.applyOwn(result, documents: [:])
            return result.outcomes.filter(\.existed).map(\.documentID)
        }
    }

    /// What ``upsert(_:rights:progress:)`` would do to each input, writing nothing: a dry run.
    /// - Returns: one change per input, in order (`refused` for a document the writer may not see).
    public func preview(_ inputs: [DocumentInput], rights: AccessRights) async throws -> [UpsertOutcome.Change] {
        try await gate.run {
            try await self.catchUpLocked()
            var changes: [UpsertOutcome.Change] = []
            for input in inputs {
                guard let existing = self.existingEntry(for: input) else {
                    changes.append(.created)
                    continue
                }
                guard rights.canSee(existing.access) else {
                    changes.append(.refused)
                    continue
                }
                guard existing.contentHash == ContentHash.of(input.kind.rawValue, input.title, input.body) else {
                    changes.append(.updated)
                    continue
                }
                guard let stored = try await self.store.document(id: existing.id) else {
                    changes.append(.created)  // deleted since the catch-up
                    continue
                }
                var record = stored
                record.source = input.source
                record.externalID = input.externalID
                record.metadata = input.metadata
                record.access = input.access ?? existing.access
                changes.append(Self.sameFields(stored, record) ? .unchanged : .metadataUpdated)
            }
            return changes
        }
    }

    /// The documents of `source` that `rights` may see, from memory (after catching up with the store): id, external
    /// id and title.
    public func documentKeys(source: String, rights: AccessRights) async throws -> [(id: String, externalID: String?, title: String)] {
        try await gate.run { try await self.catchUpLocked() }
        return read { state in
            state.documents.values.filter { $0.source == source && rights.canSee($0.access) }.map { ($0.id, $0.externalID, $0.title) }
        }
    }

    /// The document an input names: by id, else by source and external id.
    private func existingEntry(for input: DocumentInput) -> DocumentEntry? {
        read { state in
            if let id = input.id { return state.documents[id] }
            if let externalID = input.externalID, let id = state.documentOfKey[State.key(source: input.source, externalID: externalID)] {
                return state.documents[id]
            }
            return nil
        }
    }

    /// Whether a write of `record` over `stored` (same text) would change nothing.
    private static func sameFields(_ stored: DocumentRecord, _ record: DocumentRecord) -> Bool {
        stored.metadata == record.metadata && stored.access == record.access && stored.source == record.source && stored.externalID == record.externalID
    }

    /// The stored document with this id, when the caller may see it.
    public func document(id: String, rights: AccessRights) async throws -> DocumentRecord? {
        guard let access = read({ $0.documents[id]?.access }), rights.canSee(access) else { return nil }
        return try await store.document(id: id)
    }

    /// A page of the documents `rights` may see, in id order after `cursor`, optionally of one source.
    /// - Returns: the documents and the cursor of the next page (`nil` on the last).
    public func documents(after cursor: String?, limit: Int, source: String?, rights: AccessRights) async throws
        -> (documents: [DocumentRecord], next: String?)
    {
        var documents: [DocumentRecord] = []
        var cursor = cursor
        // Pages of the store, keeping what the caller may see, until the page is full or the store ends.
        while true {
            let page = try await store.documents(after: cursor, limit: limit, source: source)
            for record in page {
                cursor = record.id
                guard rights.canSee(record.access) else { continue }
                documents.append(record)
                if documents.count == limit {
                    let storeEnds = page.count < limit && record.id == page.last?.id
                    return (documents, storeEnds ? nil : cursor)
                }
            }
            if page.count < limit { return (documents, nil) }
        }
    }

    static func validate(_ input: DocumentInput, position: Int?, maximumBytes: Int) throws(KnowledgeBankError) {
        let prefix = position.map { "document \($0 + 1): " } ?? ""
        func field(_ name: String) -> String { position.map { "documents[\($0)].\(name)" } ?? name }
        if input.title.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty && input.body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw .invalidInput(prefix + "title and body are both empty; a document needs text", field: field("body"))
        }
        if input.title.utf8.count > 1_000 { throw .invalidInput(prefix + "the title is longer than 1,000 bytes", field: field("title")) }
        if input.body.utf8.count > maximumBytes {
            throw .tooLarge(
                prefix + "the body has \(input.body.utf8.count) bytes, more than the limit of \(maximumBytes) bytes per document "
                    + "(OMNIFIN_MAX_DOCUMENT_BYTES); split it into several documents",
                field: field("body"))
        }
        if input.source.isEmpty || input.source.utf8.count > 100 { throw .invalidInput(prefix + "source must be 1 to 100 bytes", field: field("source")) }
        if let externalID = input.externalID, externalID.isEmpty || externalID.utf8.count > 500 {
            throw .invalidInput(prefix + "external_id must be 1 to 500 bytes", field: field("external_id"))
        }
        if let id = input.id, id.isEmpty || id.utf8.count > 200 || id.contains(where: { $0.isWhitespace || $0.isNewline }) {
            throw .invalidInput(prefix + "id must be 1 to 200 bytes without white space", field: field("id"))
        }
        if let principal = input.access?.firstInvalidPrincipal() {
            throw .invalidInput(prefix + "access entry '\(principal)' is not role:NAME, group:NAME or user:ID", field: field("access"))
        }
    }

    private func upsertLocked(
        _ inputs: [DocumentInput], rights: AccessRights, progress: @Sendable (_ embedded: Int, _ total: Int) async -> Void
    ) async throws -> [UpsertOutcome] {
        if let mismatch = read({ $0.modelMismatch }) { throw KnowledgeBankError.modelMismatch(mismatch) }
        // Another process may have written since: what exists decides what is created and what updated.
        try await catchUpLocked()
        let now = Date()

        // Resolve ids; a batch naming one document twice keeps the last version.
        struct Plan {
            var record: DocumentRecord
            var existing: KnowledgeBank.DocumentEntry?
            var passages: [Passage] = []
            var chunkHashes: [String] = []
        }
        var plans: [Plan] = []
        var position: [String: Int] = [:]
        var refused: [(input: Int, outcome: UpsertOutcome)] = []
        for (number, input) in inputs.enumerated() {
            let existing = existingEntry(for: input)
            if let existing, !rights.canSee(existing.access) {
                refused.append((number, UpsertOutcome(documentID: "", change: .refused, chunks: 0, embedded: 0)))
                continue
            }
            let id = existing?.id ?? input.id ?? UUID().uuidString.lowercased()
            let record = DocumentRecord(
                id: id, source: input.source, externalID: input.externalID, title: input.title, body: input.body, kind: input.kind,
                metadata: input.metadata, access: input.access ?? existing?.access ?? .everyone,
                contentHash: ContentHash.of(input.kind.rawValue, input.title, input.body), createdAt: now, updatedAt: now)
            let plan = Plan(record: record, existing: existing)
            if let at = position[id] { plans[at] = plan } else {
                position[id] = plans.count
                plans.append(plan)
            }
        }

        var outcomes: [UpsertOutcome] = []
        var writes: [KnowledgeWrite] = []
        var toEmbed: [(plan: Int, passage: Int, text: String)] = []
        var reused: [Int: [String: StoredEmbedding]] = [:]
        for (p, plan) in plans.enumerated() {
            let existing = plan.existing
            if let existing, existing.contentHash == plan.record.contentHash {
                let stored = try await store.document(id: existing.id)
                var record = plan.record
                record.createdAt = stored?.createdAt ?? record.createdAt
                if let stored, Self.sameFields(stored, record) {
                    outcomes.append(
                        UpsertOutcome(
                            documentID: existing.id, change: .unchanged, chunks: existing.chunkIDs.count, embedded: 0, previousAccess: existing.access,
                            access: record.access))
                    continue
                }
                writes.append(.upsert(record, chunks: nil))
                outcomes.append(
                    UpsertOutcome(
                        documentID: existing.id, change: .metadataUpdated, chunks: existing.chunkIDs.count, embedded: 0, previousAccess: existing.access,
                        access: record.access))
                continue
            }
            if let existing {
                var map: [String: StoredEmbedding] = [:]
                for chunk in try await store.chunks(documentID: existing.id) {
                    if let embedding = chunk.embedding, embedding.model == embedder.modelName { map[chunk.contentHash] = embedding }
                }
                reused[p] = map
                plans[p].record.createdAt = (try await store.document(id: existing.id))?.createdAt ?? now
            }
            let passages = chunker.passages(title: plan.record.title, body: plan.record.body, kind: plan.record.kind)
            plans[p].passages = passages.isEmpty && !plan.record.title.isEmpty
                ? [Passage(text: "", start: 0, end: 0, tokenCount: 0)] : passages
            for (i, passage) in plans[p].passages.enumerated() {
                let text = Chunker.indexedText(title: plan.record.title, passage: passage.text)
                let hash = ContentHash.of(text)
                plans[p].chunkHashes.append(hash)
                if reused[p]?[hash] == nil { toEmbed.append((p, i, text)) }
            }
            outcomes.append(
                UpsertOutcome(
                    documentID: plan.record.id, change: existing == nil ? .created : .updated, chunks: plans[p].passages.count, embedded: 0,
                    previousAccess: existing?.access, access: plan.record.access))
            writes.append(.upsert(plans[p].record, chunks: []))  // chunks filled in below
        }

        // Embed what changed, in batches.
        var fresh: [Int: [Int: [Float]]] = [:]
        for start in stride(from: 0, to: toEmbed.count, by: configuration.embeddingBatch) {
            // A client that went away, a cancelled job or a shutting-down server stops here: nothing is written.
            try Task.checkCancellation()
            let batch = toEmbed[start..<min(toEmbed.count, start + configuration.embeddingBatch)]
            let vectors: [[Float]]
            do {
                vectors = try await embedTimed(batch.map(\.text), purpose: "documents")
            } catch {
                throw KnowledgeBankError.embeddingFailed("embedding \(batch.count) passages with \(embedder.modelName) failed: \(error)")
            }
            guard vectors.count == batch.count else {
                throw KnowledgeBankError.embeddingFailed("\(embedder.modelName) returned \(vectors.count) vectors for \(batch.count) passages")
            }
            for (item, vector) in zip(batch, vectors) { fresh[item.plan, default: [:]][item.passage] = vector }
            await progress(min(toEmbed.count, start + batch.count), toEmbed.count)
        }
        try Task.checkCancellation()
        let dimension = read { $0.index?.configuration.dimension }
        var embeddedCount: [String: Int] = [:]
        writes = writes.map { write in
            guard case .upsert(let record, .some) = write, let p = position[record.id] else { return write }
            let plan = plans[p]
            let chunks = plan.passages.enumerated().map { i, passage in
                let vector = fresh[p]?[i] ?? reused[p]?[plan.chunkHashes[i]]?.vector ?? []
                if fresh[p]?[i] != nil { embeddedCount[record.id, default: 0] += 1 }
                return NewChunk(
                    ordinal: i, text: passage.text, start: passage.start, end: passage.end, tokenCount: passage.tokenCount,
                    contentHash: plan.chunkHashes[i], embedding: StoredEmbedding(vector: vector, model: embedder.modelName))
            }
            return .upsert(record, chunks: chunks)
        }
        for case .upsert(_, let chunks?) in writes {
            for chunk in chunks where dimension != nil && chunk.embedding.vector.count != dimension {
                throw KnowledgeBankError.embeddingFailed(
                    "\(embedder.modelName) gave vectors of length \(chunk.embedding.vector.count), the index holds \(dimension!)")
            }
        }
        for i in outcomes.indices { outcomes[i].embedded = embeddedCount[outcomes[i].documentID] ?? 0 }
        // Refused inputs keep their place, so outcomes line up with the inputs that were planned.
        for (input, outcome) in refused { outcomes.insert(outcome, at: min(input, outcomes.count)) }
        guard !writes.isEmpty else { return outcomes }

        let result = try await store.write(writes)
        var records: [String: DocumentRecord] = [:]
        for case .upsert(let record, _) in writes { records[record.id] = record }
        try await applyOwn(result, documents: records)
        return outcomes
    }

    /// Brings the in-memory indexes in line with a committed store write.
    func apply(_ result: KnowledgeWriteResult, documents: [String: DocumentRecord]) {
        var removed: [UInt64] = []
        var passages: [(id: UInt64, text: String, group: Int32)] = []
        var vectors: [Float] = []
        var vectorIDs: [UInt64] = []
        var regroup: [(UInt64, Int32)] = []
        let indexes: (HNSWIndex?, FlatIndex?) = mutate { state in
            state.generation = result.generation
            for outcome in result.outcomes {
                for id in outcome.removedChunkIDs.map(UInt64.init) {
                    removed.append(id)
                    state.documentOfChunk[id] = nil
                    state.groupOfChunk[id] = nil
                }
                guard let record = documents[outcome.documentID] else {
                    if let old = state.documents.removeValue(forKey: outcome.documentID), let externalID = old.externalID {
                        state.documentOfKey[State.key(source: old.source, externalID: externalID)] = nil
                    }
                    continue
                }
                let group = state.group(for: record.access)
                let previous = state.documents[record.id]
                if let previous, let externalID = previous.externalID {
                    state.documentOfKey[State.key(source: previous.source, externalID: externalID)] = nil
                }
                var chunkIDs = previous?.chunkIDs.filter { !outcome.removedChunkIDs.contains($0) } ?? []
                if outcome.insertedChunks.isEmpty, let previous, previous.group != group {
                    for id in chunkIDs.map(UInt64.init) {
                        state.groupOfChunk[id] = group
                        regroup.append((id, group))
                    }
                }
                for chunk in outcome.insertedChunks {
                    let id = UInt64(chunk.id)
                    chunkIDs.append(chunk.id)
                    state.documentOfChunk[id] = record.id
                    state.groupOfChunk[id] = group
                    passages.append((id, Chunker.indexedText(title: record.title, passage: chunk.text), group))
                    if let vector = chunk.embedding?.vector {
                        vectors += vector
                        vectorIDs.append(id)
                    }
                }
                state.documents[record.id] = DocumentEntry(
                    id: record.id, source: record.source, externalID: record.externalID, title: record.title, access: record.access,
                    group: group, contentHash: record.contentHash, chunkIDs: chunkIDs)
                if let externalID = record.externalID { state.documentOfKey[State.key(source: record.source, externalID: externalID)] = record.id }
            }
            if state.index == nil, !vectorIDs.isEmpty {
                let dimension = vectors.count / vectorIDs.count
                state.index = try? HNSWIndex(configuration: configuration.hnsw.configuration(dimension: dimension))
                if configuration.keepExactIndex { state.exact = try? FlatIndex(dimension: dimension, metric: .cosine) }
            }
            return (state.index, state.exact)
        }
        bm25.remove(ids: removed)
        bm25.add(contentsOf: passages)
        for (id, group) in regroup { bm25.setGroup(group, for: id) }
        for id in removed {
            try? indexes.0?.remove(id: id)
            try? indexes.1?.remove(id: id)
        }
        if !vectorIDs.isEmpty {
            do {
                try indexes.0?.add(contentsOf: vectors, ids: vectorIDs, threads: vectorIDs.count > 1_000 ? configuration.buildThreads : 1)
                try indexes.1?.add(contentsOf: vectors, ids: vectorIDs)
            } catch {
                // The store holds the truth; the next start-up rebuilds. Searches meanwhile miss these passages.
                logger.error("adding \(vectorIDs.count) vectors to the index failed: \(error); restart to rebuild the index")
            }
        }
    }
}
