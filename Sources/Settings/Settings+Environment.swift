import Foundation

extension Settings {
    /// Reads and checks every `OMNIFIN_*` variable (an empty value counts as unset).
    /// - Throws: ``Invalid`` naming the first variable that is set but cannot be used.
    public static func read(_ environment: [String: String] = processEnvironment) throws(Invalid) -> Settings {
        let reader = Reader(environment: environment)
        var settings = Settings()
        settings.inherited = environment
        settings.databaseURL = reader.value("OMNIFIN_DATABASE_URL")
        settings.snapshotPath = reader.value("OMNIFIN_INDEX_SNAPSHOT")

        settings.embeddingModel = reader.value("OMNIFIN_EMBEDDING_MODEL") ?? "builtin"
        settings.modelDirectory = reader.value("OMNIFIN_MODEL_DIR")
        settings.cacheDirectory = reader.value("HOME").map { $0 + "/.cache/omnifin" }
        let timeout = try reader.number("OMNIFIN_LLM_TIMEOUT", "must be seconds between 0 and 600") { $0 > 0 && $0 <= 600 }
        settings.llmTimeout = timeout
        if let base = reader.value("OMNIFIN_LLM_BASE_URL") {
            settings.llm = API(baseURL: base, apiKey: reader.value("OMNIFIN_LLM_API_KEY"), timeout: timeout)
        }

        if let path = reader.value("OMNIFIN_LLM_MODEL") {
            guard settings.llm == nil else {
                throw Invalid(
                    "OMNIFIN_LLM_MODEL (a model Omnifin runs itself) and OMNIFIN_LLM_BASE_URL (an LLM service elsewhere) are both set; keep one")
            }
            guard path.lowercased().hasSuffix(".gguf") else { throw Invalid("OMNIFIN_LLM_MODEL '\(path)' is not a .gguf file (llama.cpp's model format)") }
            settings.localModel = LocalModel(
                path: path, server: reader.value("OMNIFIN_LLAMA_SERVER"),
                threads: try reader.integer("OMNIFIN_LLM_THREADS", in: 1...256, "is not a whole number of threads from 1 to 256"),
                contextTokens: try reader.integer("OMNIFIN_LLM_CONTEXT", in: 512...1_048_576, "is not a context size from 512 to 1,048,576 tokens"),
                queue: try reader.integer("OMNIFIN_LLM_QUEUE", in: 0...10_000, "is not a queue length from 0 to 10,000"))
        }
        if let model = reader.value("OMNIFIN_CHAT_MODEL") {
            guard settings.llm != nil else {
                throw Invalid(
                    settings.localModel == nil
                        ? "OMNIFIN_CHAT_MODEL is '\(model)' but OMNIFIN_LLM_BASE_URL is not set"
                        : "OMNIFIN_CHAT_MODEL names a model of an LLM service; with OMNIFIN_LLM_MODEL the model is that file: unset OMNIFIN_CHAT_MODEL")
            }
            settings.chatModel = model
        }
        if let fallback = reader.value("OMNIFIN_LLM_FALLBACK") {
            guard ["builtin", "error"].contains(fallback) else { throw Invalid("OMNIFIN_LLM_FALLBACK must be builtin or error") }
            settings.llmFallbackToBuiltin = fallback == "builtin"
        }
        settings.chatRelevance = try reader.number("OMNIFIN_CHAT_RELEVANCE", "must be a cosine similarity between -1 and 1") { (-1...1).contains($0) }

        func engine(_ variable: String, model modelVariable: String, default defaultModel: String) throws(Invalid) -> SpeechEngine {
            switch reader.value(variable) ?? "builtin" {
            case "builtin": return .builtin
            case "none": return .off
            case "api":
                guard let base = reader.value("OMNIFIN_SPEECH_BASE_URL") ?? reader.value("OMNIFIN_LLM_BASE_URL") else {
                    throw Invalid("\(variable)=api needs OMNIFIN_SPEECH_BASE_URL or OMNIFIN_LLM_BASE_URL")
                }
                guard let url = URL(string: base), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                    throw Invalid("the speech API address '\(base)' is not an http(s) URL")
                }
                let api = API(baseURL: base, apiKey: reader.value("OMNIFIN_SPEECH_API_KEY") ?? reader.value("OMNIFIN_LLM_API_KEY"), timeout: timeout)
                return .api(api, model: reader.value(modelVariable) ?? defaultModel)
            case let other:
                throw Invalid("\(variable) is '\(other)'; use builtin, api or none")
            }
        }
        settings.stt = try engine("OMNIFIN_STT", model: "OMNIFIN_STT_MODEL", default: "whisper-1")
        settings.tts = try engine("OMNIFIN_TTS", model: "OMNIFIN_TTS_MODEL", default: "tts-1")
        if let voice = reader.value("OMNIFIN_TTS_VOICE") { settings.ttsVoice = voice }
        settings.whisperModel = reader.value("OMNIFIN_WHISPER_MODEL")
        if let language = reader.value("OMNIFIN_STT_LANGUAGE")?.lowercased() {
            guard language == "auto" || (language.count == 2 && language.allSatisfy({ $0.isASCII && $0.isLetter })) else {
                throw Invalid("OMNIFIN_STT_LANGUAGE '\(language)' is not a two-letter language code (en, de, fr …) or auto")
            }
            settings.sttLanguage = language
        }
        settings.sttBeam = try reader.integer("OMNIFIN_STT_BEAM", in: 1...8, "is not a whole number from 1 to 8")
        settings.sttConfirmBelow = try reader.number("OMNIFIN_STT_CONFIRM_BELOW", "is not a number from 0 to 1") { (0...1).contains($0) }

        settings.host = reader.value("OMNIFIN_HOST")
        if let port = reader.value("OMNIFIN_PORT") {
            guard let number = Int(port), (0...65535).contains(number) else { throw Invalid("OMNIFIN_PORT '\(port)' is not a port number") }
            settings.port = number
        }
        settings.publicURL = reader.value("OMNIFIN_PUBLIC_URL")
        settings.mail = reader.value("OMNIFIN_MAIL")
        settings.rateLimitPerMinute = try reader.integer("OMNIFIN_RATE_LIMIT_PER_MINUTE", in: 0...Int.max, "is not a whole number ≥ 0")
        settings.loginAttemptsPerMinute = try reader.integer("OMNIFIN_LOGIN_ATTEMPTS_PER_MINUTE", in: 0...Int.max, "is not a whole number ≥ 0")
        settings.hnswEfSearch = try reader.integer("OMNIFIN_HNSW_EF_SEARCH", in: 1...10_000, "is not a whole number in 1...10000")
        settings.dataKey = reader.value("OMNIFIN_DATA_KEY")
        settings.dataKeyFile = reader.value("OMNIFIN_DATA_KEY_FILE")
        settings.tlsCertificate = reader.value("OMNIFIN_TLS_CERT")
        settings.tlsKey = reader.value("OMNIFIN_TLS_KEY")
        guard (settings.tlsCertificate == nil) == (settings.tlsKey == nil) else {
            throw Invalid("set both OMNIFIN_TLS_CERT and OMNIFIN_TLS_KEY (PEM files), or neither")
        }
        settings.importDirectory = reader.value("OMNIFIN_IMPORT_DIR")
        settings.webDirectory = reader.value("OMNIFIN_WEB_DIR")
        if let seconds = try reader.number("OMNIFIN_SNAPSHOT_INTERVAL", "is not 0 or a number of seconds in 1...86400", { $0 == 0 || ($0 >= 1 && $0 <= 86_400) }) {
            settings.snapshotInterval = .some(seconds == 0 ? nil : .milliseconds(Int(seconds * 1000)))
        }
        if let seconds = try reader.number("OMNIFIN_FOLLOW_INTERVAL", "is not a number of seconds in 0.05...3600", { $0 >= 0.05 && $0 <= 3600 }) {
            settings.followInterval = .milliseconds(Int(seconds * 1000))
        }
        settings.redisURL = reader.value("OMNIFIN_REDIS_URL")
        settings.signup = reader.value("OMNIFIN_SIGNUP")
        if let raw = reader.value("OMNIFIN_TRUSTED_PROXIES") {
            for entry in raw.split(separator: ",") {
                do {
                    settings.trustedProxies.append(try IPNetwork(String(entry)))
                } catch {
                    throw Invalid("OMNIFIN_TRUSTED_PROXIES: \(error.description)")
                }
            }
        }
        if let token = reader.value("OMNIFIN_METRICS_TOKEN") {
            guard token.count >= 16 else { throw Invalid("OMNIFIN_METRICS_TOKEN must have at least 16 characters") }
            settings.metricsToken = token
        }
        let bytes = 1_024...(64 << 20)
        let bytesMessage = "is not a number of bytes from \(bytes.lowerBound) to \(bytes.upperBound)"
        settings.maximumDocumentBytes = try reader.integer("OMNIFIN_MAX_DOCUMENT_BYTES", in: bytes, bytesMessage)
        settings.inlineDocumentBytes = try reader.integer("OMNIFIN_INLINE_DOCUMENT_BYTES", in: bytes, bytesMessage)
        settings.demoDirectory = reader.value("OMNIFIN_DEMO_DIR")

        settings.jsonLogs = reader.value("OMNIFIN_LOG_FORMAT") == "json"
        settings.logFile = reader.value("OMNIFIN_LOG_FILE")
        if let maximum = try reader.integer("OMNIFIN_LOG_MAX_BYTES", in: 4096...Int.max, "must be at least 4096") { settings.logMaximumBytes = maximum }
        settings.fuzzTarget = reader.value("OMNIFIN_FUZZ_TARGET")
        return settings
    }

    /// Typed reads of single variables, each with the message for a wrong value.
    private struct Reader {
        let environment: [String: String]

        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }

        func number(_ name: String, _ message: String, _ valid: (Double) -> Bool) throws(Invalid) -> Double? {
            guard let raw = value(name) else { return nil }
            guard let number = Double(raw), valid(number) else { throw Invalid("\(name) '\(raw)' \(message)") }
            return number
        }

        func integer(_ name: String, in range: ClosedRange<Int>, _ message: String) throws(Invalid) -> Int? {
            guard let raw = value(name) else { return nil }
            guard let number = Int(raw), range.contains(number) else { throw Invalid("\(name) '\(raw)' \(message)") }
            return number
        }
    }
}
