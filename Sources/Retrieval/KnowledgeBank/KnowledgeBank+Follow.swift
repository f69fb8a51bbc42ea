public import Storage

extension KnowledgeBank {
    /// Applies the knowledge writes that other processes (other `omnifin serve` replicas, an `omnifin ingest` run)
    /// committed to the store since this bank's generation: each changed document is read back with its passages
    /// and embeddings, and the in-memory indexes follow. Nothing is embedded.
    ///
    /// Safe to call at any time and as often as wanted: it waits for the bank's writes, and bringing a document to
    /// its stored state twice changes nothing the second time.
    /// - Returns: the number of documents brought up to date.
    /// - Throws: ``StoreError``s; what was applied before the error stays applied.
    /// - Complexity: one query when nothing changed; otherwise proportional to the changed documents' passages.
    @discardableResult
    public func catchUp() async throws -> Int {
        try await gate.run { try await self.catchUpLocked() }
    }

    /// ``catchUp()`` for callers inside the write gate.
    @discardableResult
    func catchUpLocked() async throws -> Int {
        var refreshed = 0
        var limit = 2_000
        while true {
            let changes = try await store.changes(after: generation, limit: limit)
            guard let last = changes.last else { return refreshed }
            var through = last.generation
            var page = changes[...]
            if changes.count == limit {
                // The page may end inside a generation: that one is read whole with the next page.
                if changes[0].generation == last.generation {
                    limit *= 2
                    continue
                }
                through = last.generation - 1
                page = changes.prefix { $0.generation <= through }
            }
            var seen = Set<String>()
            let documentIDs = page.map(\.documentID).filter { seen.insert($0).inserted }
            try await refresh(documentIDs: documentIDs, generation: through)
            refreshed += documentIDs.count
        }
    }

    /// Brings these documents to their stored state and marks the bank at `generation`.
    private func refresh(documentIDs: [String], generation: Int64) async throws {
        var outcomes: [KnowledgeWriteResult.Outcome] = []
        var records: [String: DocumentRecord] = [:]
        for id in documentIDs {
            let record = try await store.document(id: id)
            let stored = record == nil ? [] : try await store.chunks(documentID: id)
            let held = read { $0.documents[id]?.chunkIDs } ?? []
            let heldSet = Set(held)
            let storedSet = Set(stored.map(\.id))
            outcomes.append(
                KnowledgeWriteResult.Outcome(
                    documentID: id, removedChunkIDs: held.filter { !storedSet.contains($0) }, insertedChunks: stored.filter { !heldSet.contains($0.id) },
                    existed: read { $0.documents[id] != nil }))
            records[id] = record
        }
        apply(KnowledgeWriteResult(generation: generation, outcomes: outcomes), documents: records)
    }

    /// Applies this bank's own committed write. When the store's generation moved by more than this write (another
    /// process wrote in between), the bank stays at its previous generation and catches up, which reads the other
    /// writes and, harmlessly, this one again.
    func applyOwn(_ result: KnowledgeWriteResult, documents: [String: DocumentRecord]) async throws {
        let before = generation
        apply(result, documents: documents)
        if result.generation != before + 1 {
            mutate { $0.generation = before }
            try await catchUpLocked()
        }
    }
}

extension KnowledgeBank {
    /// Calls `changed` whenever another process commits a knowledge write (PostgreSQL's notifications), until
    /// cancelled; returns at once for a store without notifications (``catchUp()`` on a timer covers it).
    /// - Throws: when the notification connection is lost (follow again, with backoff).
    public func followStoreChanges(_ changed: @escaping @Sendable () -> Void) async throws {
        try await store.followKnowledgeChanges(changed)
    }

    /// Whether the store answers (for readiness).
    /// - Throws: the store's error.
    public func checkStore() async throws {
        _ = try await store.knowledgeGeneration()
    }
}
