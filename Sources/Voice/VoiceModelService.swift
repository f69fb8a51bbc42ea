import Crypto
import Foundation
public import Logging
public import Retrieval
public import ServiceLifecycle
import NIOPosix
import Storage

/// Keeps the recogniser's language model in step with the knowledge bank: built at start and rebuilt in the
/// background when the bank's generation moves.
public struct VoiceModelService: Service {
    public let bank: KnowledgeBank
    public let recognizer: SpeechRecognizer
    public let directory: String
    public let logger: Logger
    public var interval: Duration = .seconds(30)
    /// The stock en-us model's share of the built model (``LanguageModelBuilder/stockWeight``).
    public var stockWeight = LanguageModelBuilder.stockWeight
    /// The most words of the built model (``LanguageModelBuilder/maximumWords``).
    public var maximumWords = LanguageModelBuilder.maximumWords
    /// Whose models these are (``namespace(database:)``): servers of other databases may share the folder, and
    /// only this namespace's older models are deleted.
    public var namespace = "local"

    public init(
        bank: KnowledgeBank, recognizer: SpeechRecognizer, directory: String, logger: Logger, interval: Duration = .seconds(30),
        stockWeight: Double = LanguageModelBuilder.stockWeight, maximumWords: Int = LanguageModelBuilder.maximumWords, namespace: String = "local"
    ) {
        self.bank = bank
        self.recognizer = recognizer
        self.directory = directory
        self.logger = logger
        self.interval = interval
        self.stockWeight = stockWeight
        self.maximumWords = maximumWords
        self.namespace = namespace
    }

    /// The namespace of a database's models: `db` and 8 hex digits of the SHA-256 of its URL (never the URL, which
    /// may hold a password). Replicas of one database share their models.
    public static func namespace(database: String) -> String {
        "db" + SHA256.hash(data: Data(database.utf8)).prefix(4).hexadecimal
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var built: Int64 = -1
            while !Task.isCancelled {
                let generation = bank.generation
                if generation != built {
                    built = generation
                    await rebuild()
                }
                try await Task.sleep(for: interval)
            }
        }
    }

    /// Names the way models are built, so a model built by an older version is never reused.
    public static let recipe = "kn3"

    /// Whether a file of the model folder is one a rebuild in `namespace` may delete: a model of that namespace, or of
    /// a version before namespaces.
    public static func isOwnModel(_ name: String, namespace: String) -> Bool {
        let parts = name.split(separator: "-")
        guard parts.count >= 4, parts[0] == "knowledge" else { return false }
        return parts[2] == namespace || parts[2].allSatisfy(\.isNumber)
    }

    /// Builds a new language model and dictionary from every document's title and body, writes them next to each
    /// other (`knowledge-kn3-NAMESPACE-GENERATION-DIGEST.lm` and `.dict`) and hands them to the recogniser.
    public func rebuild() async {
        do {
            let started = ContinuousClock.now
            // The generation before reading: the files are named after what they are known to contain at least.
            let generation = bank.generation
            var documents: [(title: String, body: String)] = []
            var cursor: String?
            repeat {
                let page = try await bank.documents(after: cursor, limit: 500, source: nil, rights: .everything)
                documents += page.documents.map { ($0.title, $0.body) }
                cursor = page.next
            } while cursor != nil
            // Named by generation and by a digest of the text they are built from: another database (or the same
            // one recreated) can reach the same generation with other documents.
            var digest = SHA256()
            digest.update(data: Data("stock \(stockWeight) words \(maximumWords)\n".utf8))
            for (title, body) in documents {
                digest.update(data: Data(title.utf8) + [0] + Data(body.utf8) + [0])
            }
            let stem = "knowledge-\(Self.recipe)-\(namespace)-\(generation)-\(digest.finalize().prefix(8).hexadecimal)"
            let path = (directory as NSString).appendingPathComponent(stem + ".lm")
            let dictionaryPath = (directory as NSString).appendingPathComponent(stem + ".dict")
            // A restart over unchanged knowledge reuses the files built before it (both are written atomically).
            if FileManager.default.fileExists(atPath: path), FileManager.default.fileExists(atPath: dictionaryPath) {
                if recognizer.models != (path, dictionaryPath) {
                    recognizer.replaceLanguageModel(path, dictionary: dictionaryPath)
                    logger.info("speech language model of generation \(generation) reused from \(path)")
                }
                return
            }
            let corpus = documents
            let phonemizer = SpeechSynthesizer.phonemizer
            let (stockWeight, maximumWords, logger) = (stockWeight, maximumWords, logger)
            // Counting n-grams is CPU work: off the cooperative pool.
            let output = try await NIOThreadPool.singleton.runIfActive {
                let base = try PronunciationDictionary(contentsOfFile: SpeechRecognizer.stockDictionary)
                var stock: SphinxLanguageModel?
                if stockWeight > 0 {
                    do {
                        stock = try SphinxLanguageModel(path: SpeechRecognizer.stockLanguageModel)
                    } catch {
                        logger.warning("the speech language model is built without the stock model: \(error)")
                    }
                }
                return LanguageModelBuilder.build(
                    documents: corpus, dictionary: base, phonemizer: phonemizer, questionWeight: LanguageModelBuilder.questionWeight,
                    stock: stock.map { ($0, stockWeight) }, maximumWords: maximumWords)
            }
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try output.dictionary.write(toFile: dictionaryPath, atomically: true, encoding: .utf8)
            try output.arpa.write(toFile: path, atomically: true, encoding: .utf8)
            let previous = recognizer.models
            recognizer.replaceLanguageModel(path, dictionary: dictionaryPath)
            // A decoder may still be loading the previous model: keep it, drop this namespace's older ones (and those of
            // versions that named no namespace, `knowledge-kn3-GENERATION-…`). Other databases' models stay.
            let kept: Set = [path, dictionaryPath, previous.languageModel, previous.dictionary]
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where Self.isOwnModel(name, namespace: namespace) {
                let file = (directory as NSString).appendingPathComponent(name)
                if !kept.contains(file) { try? FileManager.default.removeItem(atPath: file) }
            }
            let milliseconds = Int((ContinuousClock.now - started).inSeconds * 1000)
            let nGrams = output.nGrams.map(String.init).joined(separator: "/")
            logger.info(
                "speech language model rebuilt from \(documents.count) documents in \(milliseconds) ms: \(output.words) words, n-grams \(nGrams), \(output.additions.count) pronunciations added"
            )
        } catch {
            logger.error("rebuilding the speech language model failed (the previous one stays): \(error)")
        }
    }
}
