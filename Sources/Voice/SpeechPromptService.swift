import Foundation
public import Logging
public import Retrieval
public import ServiceLifecycle
import Storage

/// Keeps the recogniser's prompt of names (``SpeechPrompt``) in step with the knowledge bank: built at start and
/// again when the bank's generation has moved, checked every `interval`.
public struct SpeechPromptService: Service {
    public let bank: KnowledgeBank
    public let recognizer: WhisperRecognizer
    public let logger: Logger
    public var interval: Duration

    public init(bank: KnowledgeBank, recognizer: WhisperRecognizer, logger: Logger, interval: Duration = .seconds(30)) {
        self.bank = bank
        self.recognizer = recognizer
        self.logger = logger
        self.interval = interval
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

    /// Reads every document's title and body and gives the recogniser the prompt they make; a failure keeps the
    /// previous prompt.
    public func rebuild() async {
        do {
            let started = ContinuousClock.now
            var documents: [(title: String, body: String)] = []
            var cursor: String?
            repeat {
                let page = try await bank.documents(after: cursor, limit: 500, source: nil, rights: .everything)
                documents += page.documents.map { ($0.title, $0.body) }
                cursor = page.next
            } while cursor != nil
            let recognizer = recognizer
            let prompt = SpeechPrompt.build(documents: documents) { recognizer.tokenCount($0) }
            recognizer.replacePrompt(prompt)
            let milliseconds = Int((ContinuousClock.now - started).inSeconds * 1000)
            logger.info("speech prompt rebuilt from \(documents.count) documents in \(milliseconds) ms: \(prompt.isEmpty ? "no names" : prompt)")
        } catch {
            logger.error("rebuilding the speech prompt failed (the previous one stays): \(error)")
        }
    }
}
