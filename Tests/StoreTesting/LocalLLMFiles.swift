import Foundation

/// The llama-server and the small model `make llm` provides, for the tests that run the local LLM engine for real
/// (`make test` passes both paths; without them, the places `make llm` puts them).
public enum LocalLLMFiles {
    public static var server: String {
        ProcessInfo.processInfo.environment["OMNIFIN_TEST_LLAMA_SERVER"] ?? NSHomeDirectory() + "/.cache/omnifin/llama.cpp/0.3.36/bin/llama-server"
    }

    public static var model: String {
        ProcessInfo.processInfo.environment["OMNIFIN_TEST_LLM_MODEL"]
            ?? NSHomeDirectory() + "/.cache/omnifin/models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf"
    }
}
