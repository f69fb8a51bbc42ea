import ArgumentParser
import Foundation
import Logging
import Retrieval
import Storage

/// Options naming the knowledge bank on disk: shared by the commands that open it.
struct KnowledgeBankOptions: ParsableArguments {
    @Option(help: "The database: sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB (default: OMNIFIN_DATABASE_URL or \(DatabaseLocation.defaultURL)).")
    var database: String?
    @Option(help: "The index snapshot file (default: OMNIFIN_INDEX_SNAPSHOT or var/index.hnsw).") var snapshot: String?

    var databaseURL: String {
        database ?? ProcessInfo.processInfo.environment["OMNIFIN_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? DatabaseLocation.defaultURL
    }

    var snapshotPath: String {
        snapshot ?? ProcessInfo.processInfo.environment["OMNIFIN_INDEX_SNAPSHOT"].flatMap { $0.isEmpty ? nil : $0 } ?? "var/index.hnsw"
    }

    /// Opens the store and the knowledge bank over it with the configured embedder; bad settings become usage errors.
    func open(logger: Logger) async throws -> (store: any OmnifinStore, bank: KnowledgeBank, report: OpenReport) {
        let store: any OmnifinStore
        let embedder: any Embedder
        do {
            store = try await StoreFactory.open(url: databaseURL, logger: logger)
            embedder = try EmbedderConfiguration.fromEnvironment()
        } catch let error as StoreError {
            throw ValidationError(error.message)
        } catch let error as EmbeddingError {
            throw ValidationError(error.message)
        }
        let (bank, report) = try await KnowledgeBank.open(
            store: store, embedder: embedder, chunker: KnowledgeBank.defaultChunker(for: embedder),
            configuration: .init(snapshotPath: snapshotPath), logger: logger)
        return (store, bank, report)
    }
}

struct Reindex: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-embed the knowledge bank with the configured embedding model and rebuild the index.",
        discussion: """
            Needed after changing OMNIFIN_EMBEDDING_MODEL: start-up reports stored embeddings of another model and keeps
            dense search off until this has run. Passages keep their chunking; each batch of documents is one
            transaction, so an interrupted run can simply be started again. Writes the index snapshot at the end.
            """
    )

    @OptionGroup var bank: KnowledgeBankOptions

    func run() async throws {
        var logger = Logger(label: "omnifin.reindex")
        logger.logLevel = .warning
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
