import Foundation
import Settings
import Testing

@Suite("Settings from the environment")
struct SettingsTests {
    @Test("no variables: the defaults; empty values count as unset")
    func defaults() throws {
        let settings = try Settings.read([:])
        #expect(settings.databaseURL == nil && settings.embeddingModel == "builtin" && settings.llm == nil && settings.stt == .builtin)
        #expect(try Settings.read(["OMNIFIN_DATABASE_URL": "", "OMNIFIN_PORT": ""]).port == nil)
        #expect(try Settings.read(["HOME": "/home/ada"]).cacheDirectory == "/home/ada/.cache/omnifin")
    }

    @Test("every variable is read typed, and a wrong one is refused with its name")
    func typed() throws {
        let settings = try Settings.read([
            "OMNIFIN_LLM_BASE_URL": "http://127.0.0.1:8081", "OMNIFIN_LLM_API_KEY": "k", "OMNIFIN_LLM_TIMEOUT": "12", "OMNIFIN_CHAT_MODEL": "m",
            "OMNIFIN_STT": "api", "OMNIFIN_TTS": "none", "OMNIFIN_PORT": "9000", "OMNIFIN_SNAPSHOT_INTERVAL": "0", "OMNIFIN_FOLLOW_INTERVAL": "0.5",
            "OMNIFIN_TRUSTED_PROXIES": "10.0.0.0/8, fd00::/8", "OMNIFIN_STT_LANGUAGE": "DE", "OMNIFIN_STT_BEAM": "3", "OMNIFIN_LOG_FORMAT": "json",
        ])
        #expect(settings.llm == Settings.API(baseURL: "http://127.0.0.1:8081", apiKey: "k", timeout: 12) && settings.chatModel == "m")
        #expect(settings.stt == .api(Settings.API(baseURL: "http://127.0.0.1:8081", apiKey: "k", timeout: 12), model: "whisper-1") && settings.tts == .off)
        #expect(settings.port == 9000 && settings.snapshotInterval == .some(nil) && settings.followInterval == .milliseconds(500))
        #expect(settings.trustedProxies.count == 2 && settings.trustedProxies[0].contains("10.1.2.3") && !settings.trustedProxies[0].contains("11.0.0.1"))
        #expect(settings.sttLanguage == "de" && settings.sttBeam == 3 && settings.sttConfirmBelow == nil && settings.jsonLogs)
        let wrong: [[String: String]] = [
            ["OMNIFIN_PORT": "70000"], ["OMNIFIN_CHAT_MODEL": "m"], ["OMNIFIN_LLM_FALLBACK": "sometimes"], ["OMNIFIN_CHAT_RELEVANCE": "2"],
            ["OMNIFIN_STT": "whisper"], ["OMNIFIN_TTS": "api"], ["OMNIFIN_STT_LANGUAGE": "english"], ["OMNIFIN_STT_BEAM": "0"], ["OMNIFIN_STT_CONFIRM_BELOW": "1.5"],
            ["OMNIFIN_TLS_CERT": "cert.pem"], ["OMNIFIN_SNAPSHOT_INTERVAL": "0.5"], ["OMNIFIN_TRUSTED_PROXIES": "10.0.0.0/40"],
            ["OMNIFIN_METRICS_TOKEN": "short"], ["OMNIFIN_MAX_DOCUMENT_BYTES": "12"], ["OMNIFIN_LOG_MAX_BYTES": "10"], ["OMNIFIN_RATE_LIMIT_PER_MINUTE": "-1"],
            ["OMNIFIN_LLM_MODEL": "/models/qwen.bin"], ["OMNIFIN_LLM_MODEL": "/m.gguf", "OMNIFIN_LLM_THREADS": "0"],
            ["OMNIFIN_LLM_MODEL": "/m.gguf", "OMNIFIN_LLM_CONTEXT": "100"], ["OMNIFIN_LLM_MODEL": "/m.gguf", "OMNIFIN_LLM_QUEUE": "many"],
        ]
        for environment in wrong {
            let name = environment.keys.sorted().last { $0 != "OMNIFIN_LLM_BASE_URL" && ($0 != "OMNIFIN_LLM_MODEL" || environment.count == 1) }!
            do {
                _ = try Settings.read(environment)
                Issue.record("\(environment) was accepted")
            } catch {
                #expect(error.description.contains(name) || name == "OMNIFIN_TTS", "\(environment): \(error.description)")
            }
        }
    }

    @Test("a local model: its engine settings are read, and it cannot be combined with an LLM service")
    func localModel() throws {
        let settings = try Settings.read([
            "OMNIFIN_LLM_MODEL": "/models/qwen2.5-1.5b-instruct-q4_k_m.gguf", "OMNIFIN_LLM_THREADS": "4", "OMNIFIN_LLM_CONTEXT": "8192",
            "OMNIFIN_LLM_QUEUE": "0", "OMNIFIN_LLAMA_SERVER": "/opt/llama/llama-server", "OMNIFIN_LLM_TIMEOUT": "300",
        ])
        #expect(
            settings.localModel
                == Settings.LocalModel(
                    path: "/models/qwen2.5-1.5b-instruct-q4_k_m.gguf", server: "/opt/llama/llama-server", threads: 4, contextTokens: 8_192, queue: 0))
        #expect(settings.llm == nil && settings.chatModel == nil && settings.llmTimeout == 300)
        for conflict in [["OMNIFIN_LLM_BASE_URL": "http://127.0.0.1:8081"], ["OMNIFIN_CHAT_MODEL": "gpt-4o"]] {
            do {
                _ = try Settings.read(conflict.merging(["OMNIFIN_LLM_MODEL": "/m.gguf"]) { a, _ in a })
                Issue.record("\(conflict) with OMNIFIN_LLM_MODEL was accepted")
            } catch {
                #expect(error.description.contains("OMNIFIN_LLM_MODEL") && error.description.contains(conflict.keys.first!), "\(error)")
            }
        }
    }
}
