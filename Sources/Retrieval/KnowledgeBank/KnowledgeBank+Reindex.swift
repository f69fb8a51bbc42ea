import Foundation
public import Storage

extension KnowledgeBank {
    /// Re-embeds every stored passage that another model embedded, with the configured embedder, then rebuilds
    /// the indexes. Chunking stays as stored; documents are rewritten in batches, each one transaction, so an
    /// interrupted run resumes where it stopped (passages already re-embedded are skipped).
    /// - Parameter progress: documents done and in all, after each batch.
    /// - Returns: passages re-embedded, and the report of the rebuild.
    public func reindex(batch: Int = 64, progress: @Sendable (Int, Int) -> Void = { _, _ in }) async throws -> (passages: Int, report: OpenReport) {
        try await gate.run {
            let total = try await self.store.documentCount()
            var cursor: String?
            var done = 0
            var passages = 0
            while true {
                let page = try await self.store.documents(after: cursor, limit: max(1, batch), source: nil)
                guard let last = page.last else { break }
                cursor = last.id
                var writes: [KnowledgeWrite] = []
                var pending: [(document: Int, chunks: [ChunkRecord])] = []
                var texts: [String] = []
                for document in page {
                    let chunks = try await self.store.chunks(documentID: document.id)
                    guard chunks.contains(where: { $0.embedding?.model != self.embedder.modelName }) else { continue }
                    pending.append((writes.count, chunks))
                    writes.append(.upsert(document, chunks: nil))
                    texts += chunks.map { Chunker.indexedText(title: document.title, passage: $0.text) }
                }
                if !texts.isEmpty {
                    var vectors: [[Float]] = []
                    for start in stride(from: 0, to: texts.count, by: self.configuration.embeddingBatch) {
                        let slice = Array(texts[start..<min(texts.count, start + self.configuration.embeddingBatch)])
                        do {
                            vectors += try await self.embedTimed(slice, purpose: "documents")
                        } catch {
                            throw KnowledgeBankError.embeddingFailed("re-embedding with \(self.embedder.modelName) failed: \(error)")
                        }
                    }
                    var next = 0
                    for (position, chunks) in pending {
                        guard case .upsert(let document, _) = writes[position] else { continue }
                        let fresh = chunks.map { chunk in
                            defer { next += 1 }
                            return NewChunk(
                                ordinal: chunk.ordinal, text: chunk.text, start: chunk.start, end: chunk.end, tokenCount: chunk.tokenCount,
                                contentHash: chunk.contentHash, embedding: StoredEmbedding(vector: vectors[next], model: self.embedder.modelName))
                        }
                        writes[position] = .upsert(document, chunks: fresh)
                        passages += fresh.count
                    }
                    _ = try await self.store.write(writes)
                }
                done += page.count
                progress(done, total)
            }
            let report = try await self.load()
            return (passages, report)
        }
    }
}
