import ArgumentParser
import Foundation
import Ingest
import Logging
import Retrieval
import Settings
import Storage

/// How the commands get their settings and open the knowledge bank: one place, so every command reads the same
/// variables the same way and bad ones are usage errors.
enum Wiring {
    /// The settings of this process's environment.
    /// - Parameter overrides: variables a command-line option sets (`--llm-model` is `OMNIFIN_LLM_MODEL`), checked
    ///   with the rest.
    static func settings(overrides: [String: String] = [:]) throws -> Settings {
        do {
            return try Settings.read(Settings.processEnvironment.merging(overrides) { _, option in option })
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// `--database`, else `OMNIFIN_DATABASE_URL`, else `sqlite:var/omnifin.db`.
    static func databaseURL(_ option: String?, _ settings: Settings) -> String {
        option ?? settings.databaseURL ?? DatabaseLocation.defaultURL
    }

    /// `--snapshot`, else `OMNIFIN_INDEX_SNAPSHOT`, else the database's own (``DatabaseLocation/defaultSnapshotPath(for:)``).
    static func snapshotPath(_ option: String?, _ settings: Settings, databaseURL: String) -> String {
        option ?? settings.snapshotPath ?? DatabaseLocation.defaultSnapshotPath(for: databaseURL)
    }

    static func logger(_ label: String, level: Logger.Level = .warning) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }

    static func store(_ url: String, logger: Logger) async throws -> any OmnifinStore {
        do {
            return try await StoreFactory.open(url: url, logger: logger)
        } catch let error as StoreError {
            throw ValidationError(error.message)
        }
    }

    /// The configured embedder (`OMNIFIN_EMBEDDING_MODEL`): the built-in model from `OMNIFIN_MODEL_DIR`, or the API.
    static func embedder(_ settings: Settings, threads: Int? = nil) throws -> any Embedder {
        do {
            return try EmbedderConfiguration.embedder(settings, threads: threads)
        } catch let error as EmbeddingError {
            throw ValidationError(error.message)
        }
    }

    /// The built-in embedder alone (what the benchmarks and evaluations measure).
    static func builtinEmbedder(_ settings: Settings, threads: Int? = nil) throws -> BuiltinEmbedder {
        do {
            return try BuiltinEmbedder(directory: BuiltinEmbedder.directory(settings), threads: threads)
        } catch let error as EmbeddingError {
            throw ValidationError(error.message)
        }
    }

    /// Opens the store at `url` and the knowledge bank over it with the configured embedder, the settings' search
    /// depth and document limit.
    static func knowledgeBank(url: String, snapshotPath: String, settings: Settings, logger: Logger) async throws
        -> (store: any OmnifinStore, bank: KnowledgeBank, report: OpenReport)
    {
        let store = try await store(url, logger: logger)
        let embedder = try embedder(settings)
        var configuration = KnowledgeBank.Configuration(snapshotPath: snapshotPath)
        if let ef = settings.hnswEfSearch { configuration.hnsw.efSearch = ef }
        if let bytes = settings.maximumDocumentBytes { configuration.maximumDocumentBytes = bytes }
        let (bank, report) = try await KnowledgeBank.open(
            store: store, embedder: embedder, chunker: KnowledgeBank.defaultChunker(for: embedder), configuration: configuration, logger: logger)
        return (store, bank, report)
    }
}

extension Wiring {
    /// The Markdown and text files of a folder as documents (`--seed`, `--demo`, the evaluation corpus).
    static func markdownFolder(_ folder: String) throws -> [DocumentInput] {
        do {
            return try MarkdownFolder.documents(in: folder)
        } catch {
            throw ValidationError(error.description)
        }
    }
}

/// Options naming the knowledge bank on disk: shared by the commands that open it.
struct KnowledgeBankOptions: ParsableArguments {
    @Option(help: "The database: sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB (default: OMNIFIN_DATABASE_URL or \(DatabaseLocation.defaultURL)).")
    var database: String?
    @Option(help: "The index snapshot file (default: OMNIFIN_INDEX_SNAPSHOT, else the database's own: var/index.hnsw for the default database, PATH.hnsw beside sqlite:PATH).")
    var snapshot: String?

    /// Opens the store and the knowledge bank over it; bad settings become usage errors.
    func open(logger: Logger) async throws -> (store: any OmnifinStore, bank: KnowledgeBank, report: OpenReport) {
        let settings = try Wiring.settings()
        let url = Wiring.databaseURL(database, settings)
        return try await Wiring.knowledgeBank(url: url, snapshotPath: Wiring.snapshotPath(snapshot, settings, databaseURL: url), settings: settings, logger: logger)
    }
}
