import Chat
import Logging
import ServiceLifecycle

/// Runs the local llama.cpp engine (`OMNIFIN_LLM_MODEL`) for as long as the server runs: started with it, restarted
/// when it dies, stopped at shutdown.
struct LlamaEngineService: Service {
    let engine: LlamaEngine

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await engine.run()
        }
    }
}
