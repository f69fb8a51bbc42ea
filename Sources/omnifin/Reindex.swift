import ArgumentParser
import Foundation
import Logging
import Retrieval
import Storage

struct Reindex: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-embed the knowledge bank with the configured embedding model and rebuild the index.",
        discussion: """
            Needed after changing OMNIFIN_EMBEDDING_MODEL: start-up reports stored embeddings of another model and keeps \
            dense search off until this has run. Passages keep their chunking; each batch of documents is one \
            transaction, so an interrupted run can simply be started again. Writes the index snapshot at the end.
            """
    )

    @OptionGroup var bank: KnowledgeBankOptions

    func run() async throws {
        let logger = Wiring.logger("omnifin.reindex")
        let (store, knowledge, opened) = try await bank.open(logger: logger)
        FileHandle.standardError.write(Data("opened \(store.location): \(opened)\n".utf8))
        let (passages, report) = try await knowledge.reindex { done, total in
            FileHandle.standardError.write(Data("\r  \(done)/\(total) documents".utf8))
        }
        try await knowledge.saveSnapshot()
        await store.close()
        print("re-embedded \(passages) passages with \(knowledge.embedder.modelName); \(report)")
    }
}
