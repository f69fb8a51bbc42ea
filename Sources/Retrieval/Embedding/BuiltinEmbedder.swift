import Dispatch
import Foundation
import Index
public import Settings
import Synchronization

/// all-MiniLM-L6-v2 running in process: the WordPiece tokenizer, the 6-layer BERT encoder on BLAS, mean pooling
/// and L2 normalisation. Needs no network and no API key.
///
/// Texts are tokenized, ordered by length and packed into ragged batches of up to ``tokensPerBatch`` tokens,
/// which ``threads`` threads encode side by side (OpenBLAS is kept to one thread per call).
public final class BuiltinEmbedder: Embedder {
    public static let name = "all-MiniLM-L6-v2"

    /// Where `make model` puts the files: `~/.cache/omnifin/models/all-MiniLM-L6-v2`.
    public static var defaultDirectory: String {
        FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/omnifin/models/all-MiniLM-L6-v2").path
    }

    /// `OMNIFIN_MODEL_DIR`, else ``defaultDirectory``.
    public static func directory(_ settings: Settings) -> String { settings.modelDirectory ?? defaultDirectory }

    public let modelName = BuiltinEmbedder.name
    public var dimension: Int? { encoder.configuration.hiddenSize }
    public let tokenizer: WordPieceTokenizer
    public let threads: Int
    public let tokensPerBatch: Int
    let encoder: BERTEncoder

    /// Loads the model from `directory` (`config.json`, `vocab.txt`, `model.safetensors`).
    ///
    /// - Parameters:
    ///   - threads: batches encoded at once; `nil` means the number of cores.
    ///   - maxLength: tokens per text, `[CLS]` and `[SEP]` included (the model's `max_seq_length` is 256).
    /// - Throws: ``EmbeddingError`` `.modelMissing` or `.modelCorrupt`, naming the command that fixes it.
    public init(
        directory: String = BuiltinEmbedder.defaultDirectory, threads: Int? = nil, maxLength: Int = 256, tokensPerBatch: Int = 2048
    ) throws {
        let base = URL(fileURLWithPath: directory)
        guard FileManager.default.fileExists(atPath: base.appendingPathComponent("model.safetensors").path) else {
            throw EmbeddingError.modelMissing("no model.safetensors in \(directory)")
        }
        let configuration: BERTConfiguration
        do {
            configuration = try JSONDecoder().decode(BERTConfiguration.self, from: Data(contentsOf: base.appendingPathComponent("config.json")))
        } catch {
            throw EmbeddingError.modelCorrupt("cannot read \(base.appendingPathComponent("config.json").path): \(error)")
        }
        tokenizer = try WordPieceTokenizer(
            vocabularyFile: base.appendingPathComponent("vocab.txt").path, maxLength: min(maxLength, configuration.maxPositions))
        encoder = try BERTEncoder(configuration: configuration, weights: SafeTensors(path: base.appendingPathComponent("model.safetensors").path))
        self.threads = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
        self.tokensPerBatch = max(tokensPerBatch, tokenizer.maxLength)
        BLASThreads.ensureOnePerCall()
    }

    public func embed(_ texts: [String]) async throws -> [[Float]] {
        // The encoder blocks a thread for the whole batch; keep it off the cooperative pool.
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: self.embedSynchronously(texts)) }
        }
    }

    /// Embeds on the calling thread (plus ``threads`` - 1 helpers): one vector per text, in input order.
    public func embedSynchronously(_ texts: [String]) -> [[Float]] {
        let flat = embedFlat(texts).vectors
        let h = encoder.configuration.hiddenSize
        return (0..<texts.count).map { Array(flat[$0 * h..<($0 + 1) * h]) }
    }

    /// Embeds `texts` into one row-major buffer (`texts.count × dimension`) and reports how many tokens it encoded.
    public func embedFlat(_ texts: [String]) -> (vectors: [Float], tokens: Int) {
        let h = encoder.configuration.hiddenSize
        let tokenized = UnsafeMutableBufferPointer<[Int32]>.allocate(capacity: texts.count)
        tokenized.initialize(repeating: [])
        defer {
            tokenized.deinitialize()
            tokenized.deallocate()
        }
        do {
            // Each worker fills its own indices.
            nonisolated(unsafe) let tokenized = tokenized
            DispatchQueue.concurrentPerform(iterations: threads) { worker in
                var i = worker
                while i < texts.count {
                    tokenized[i] = tokenizer.encode(texts[i])
                    i += threads
                }
            }
        }
        let sequences = Array(tokenized)
        let batches = Self.plan(lengths: sequences.map(\.count), tokensPerBatch: tokensPerBatch)
        var output = [Float](repeating: 0, count: texts.count * h)
        output.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let out = out
            let next = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: min(threads, max(batches.count, 1))) { _ in
                while true {
                    let b = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    if b >= batches.count { return }
                    let members = batches[b]
                    let vectors = encoder.embed(members.map { sequences[$0] })
                    for (row, index) in members.enumerated() {
                        for i in 0..<h { out[index * h + i] = vectors[row * h + i] }
                    }
                }
            }
        }
        return (output, sequences.reduce(0) { $0 + $1.count })
    }

    /// Groups texts of similar length, longest first, into batches of at most `tokensPerBatch` tokens.
    static func plan(lengths: [Int], tokensPerBatch: Int) -> [[Int]] {
        let order = lengths.indices.sorted { lengths[$0] > lengths[$1] }
        var batches = [[Int]]()
        var current = [Int]()
        var tokens = 0
        for index in order {
            if !current.isEmpty && tokens + lengths[index] > tokensPerBatch {
                batches.append(current)
                current = []
                tokens = 0
            }
            current.append(index)
            tokens += lengths[index]
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }
}
