import Chat
import Logging
import ServiceLifecycle

/// Embeds the knowledge bank's sentences for the built-in answerer once the server is up, so that the first
/// question about a document is answered as fast as later ones (the answer otherwise embeds the sentences of its
/// documents first: about half a second on 2 cores). Answers asked meanwhile work as before.
struct AnswerWarmUp: Service {
    let answerer: Answerer
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            let started = ContinuousClock.now
            do {
                let units = try await answerer.warmUp()
                if units > 0 { logger.info("built-in answerer: \(units) sentences embedded ahead of questions in \(ContinuousClock.now - started)") }
            } catch is CancellationError {
            } catch {
                logger.warning("built-in answerer: embedding sentences ahead of questions failed (answers embed them as they go): \(error)")
            }
        }
        try? await gracefulShutdown()
    }
}
