/// Checks shared by both stores before a knowledge write touches the database.
enum KnowledgeWriteValidation {
    static func check(_ writes: [KnowledgeWrite]) throws(StoreError) {
        var seen = Set<String>()
        for write in writes {
            guard !write.documentID.isEmpty else { throw .invalidArgument("a document id is empty") }
            guard seen.insert(write.documentID).inserted else {
                throw .invalidArgument("document \(write.documentID) appears twice in one write; merge the changes first")
            }
            guard case .upsert(let document, let chunks) = write else { continue }
            if let principal = document.access.firstInvalidPrincipal() {
                throw .invalidArgument("access entry '\(principal)' is not role:NAME, group:NAME or user:ID")
            }
            guard let chunks else { continue }
            var ordinals = Set<Int>()
            var dimension: Int?
            for chunk in chunks {
                guard ordinals.insert(chunk.ordinal).inserted else {
                    throw .invalidArgument("document \(document.id) has two chunks with ordinal \(chunk.ordinal)")
                }
                guard !chunk.embedding.vector.isEmpty, !chunk.embedding.model.isEmpty else {
                    throw .invalidArgument("chunk \(chunk.ordinal) of document \(document.id) has no embedding")
                }
                if let dimension, dimension != chunk.embedding.vector.count {
                    throw .invalidArgument("the chunks of document \(document.id) have embeddings of different lengths")
                }
                dimension = chunk.embedding.vector.count
            }
        }
    }

    static func newChunkCount(_ writes: [KnowledgeWrite]) -> Int {
        writes.reduce(0) { total, write in
            if case .upsert(_, let chunks?) = write { return total + chunks.count }
            return total
        }
    }
}

extension KnowledgeWrite {
    var operation: KnowledgeChange.Operation {
        switch self {
        case .upsert: .upsert
        case .delete: .delete
        }
    }
}
