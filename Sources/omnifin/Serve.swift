import Accounts
import ArgumentParser
import ChatAPI
import Foundation
import Hummingbird
import Ingest
import Logging
import Retrieval
import Settings
import ServiceLifecycle
import UnixSignals
import Storage

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the Omnifin HTTP server: the REST API over the knowledge bank.",
        discussion: """
            Configuration comes from the environment (OMNIFIN_HOST, OMNIFIN_PORT, OMNIFIN_DATABASE_URL, OMNIFIN_INDEX_SNAPSHOT, \
            OMNIFIN_MAIL=file:DIR, OMNIFIN_PUBLIC_URL, OMNIFIN_EMBEDDING_MODEL, OMNIFIN_DATA_KEY or OMNIFIN_DATA_KEY_FILE, \
            OMNIFIN_RATE_LIMIT_PER_MINUTE, OMNIFIN_LOGIN_ATTEMPTS_PER_MINUTE, OMNIFIN_REDIS_URL, OMNIFIN_FOLLOW_INTERVAL, \
            OMNIFIN_SNAPSHOT_INTERVAL, OMNIFIN_HNSW_EF_SEARCH); options override it. The defaults serve \
            http://127.0.0.1:8080 from sqlite:var/omnifin.db with the built-in embedder. The first account registered \
            becomes admin; confirmation links are written to var/mail and printed in the log. Message contents are \
            encrypted with the data key (generated into var/data.key on first start when OMNIFIN_DATA_KEY is unset: back it up). \
            --seed DIR loads the Markdown and text files of DIR at start (again and again without duplicates); --demo loads \
            the demo knowledge of corpora/ into an empty knowledge bank (what make run does). \
            Several servers may share one database (replicas behind a load balancer): knowledge written through any of them, \
            or by omnifin ingest, is searchable on all within a second (PostgreSQL notifications, and a look at the change \
            log every OMNIFIN_FOLLOW_INTERVAL seconds, default 2). Give them one OMNIFIN_DATA_KEY and one OMNIFIN_REDIS_URL \
            so that sessions, rate limits and query vectors are shared. The index snapshot is written every \
            OMNIFIN_SNAPSHOT_INTERVAL seconds (default 300) when the knowledge changed, and at shutdown. \
            Voice chat (docs/voice.md): OMNIFIN_STT and OMNIFIN_TTS (builtin, api or none). The built-in recogniser is \
            Whisper run in process (OMNIFIN_WHISPER_MODEL, default ~/.cache/omnifin/models/whisper-base/ggml-base.bin, \
            fetched by make model), prompted with the knowledge bank's names; OMNIFIN_STT_LANGUAGE (default en, or auto), \
            OMNIFIN_STT_BEAM (default 5) and OMNIFIN_STT_CONFIRM_BELOW (the confidence below which a spoken question is \
            shown back to confirm instead of answered, default 0.55). \
            Answers (docs/chat.md): the built-in answerer by default; OMNIFIN_LLM_BASE_URL with OMNIFIN_CHAT_MODEL for an \
            OpenAI-compatible service; or --llm-model / OMNIFIN_LLM_MODEL for a GGUF model that Omnifin runs in its own \
            llama.cpp engine on a loopback port (OMNIFIN_LLAMA_SERVER, default the one make llm builds under \
            ~/.cache/omnifin/llama.cpp; OMNIFIN_LLM_THREADS, default one per core up to 8; OMNIFIN_LLM_CONTEXT, default \
            4096 tokens; OMNIFIN_LLM_QUEUE, default 8 questions waiting, then 503). OMNIFIN_LLM_FALLBACK=builtin answers \
            with the built-in answerer when the model fails or is busy.
            """
    )

    @Option(help: "The address to listen on.") var host: String?
    @Option(help: "The port to listen on.") var port: Int?
    @Option(help: "sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB.") var database: String?
    @Option(help: "The index snapshot file.") var snapshot: String?
    @Option(help: "A folder of .md/.txt files to load into the knowledge bank at start (source 'corpora').") var seed: [String] = []
    @Flag(help: "Load the demo knowledge (corpora/, or OMNIFIN_DEMO_DIR) when the knowledge bank is empty.") var demo = false
    @Option(
        name: .customLong("llm-model"),
        help: "Answer with this GGUF model in a llama.cpp engine Omnifin runs (OMNIFIN_LLM_MODEL; make llm builds the engine).")
    var llmModel: String?

    func run() async throws {
        let settings = try Wiring.settings(overrides: llmModel.map { ["OMNIFIN_LLM_MODEL": $0] } ?? [:])
        var configuration: ServerConfiguration
        do {
            configuration = try ServerConfiguration(settings)
        } catch {
            throw ValidationError(error.description)
        }
        if let host { configuration.host = host }
        if let port {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
            configuration.port = port
        }
        if host != nil || port != nil, settings.publicURL == nil {
            configuration.publicURL = "http://\(configuration.host):\(configuration.port)"
        }
        if let database { configuration.databaseURL = database }
        if let snapshot { configuration.snapshotPath = snapshot }

        try Self.bootstrapLogging(settings)
        ProcessMetrics.bootstrap()
        let logger = Wiring.logger("omnifin", level: .info)
        let (store, bank, _) = try await Wiring.knowledgeBank(
            url: configuration.databaseURL, snapshotPath: configuration.snapshotPath, settings: settings, logger: logger)
        // The demo is for trying Omnifin out on this machine: anyone who reaches it may sign up, unless told otherwise.
        if demo && configuration.signup == nil { configuration.signup = .open }
        if demo {
            let folder = settings.demoDirectory ?? "corpora"
            if bank.documentCount == 0 {
                let inputs = try Wiring.markdownFolder(folder)
                _ = try await bank.upsert(inputs, rights: .everything)
                logger.info("loaded \(inputs.count) demo documents from \(folder) into the empty knowledge bank")
            } else {
                logger.info("--demo: the knowledge bank already holds \(bank.documentCount) documents; the demo is not loaded")
            }
        }
        for folder in seed {
            let inputs = try Wiring.markdownFolder(folder)
            let outcomes = try await bank.upsert(inputs, rights: .everything)
            let changed = outcomes.filter { $0.change != .unchanged }.count
            logger.info("seeded \(inputs.count) documents from \(folder): \(changed) new or changed")
        }
        do {
            let app = try await buildApplication(store: store, bank: bank, configuration: configuration, logger: logger)
            if configuration.tlsCertificatePath != nil {
                logger.info("Omnifin listening on https://\(configuration.host):\(configuration.port) (TLS with OMNIFIN_TLS_CERT, HSTS on)")
            } else {
                logger.info("Omnifin listening on http://\(configuration.host):\(configuration.port) (no TLS: put a TLS-terminating proxy in front)")
            }
            // SIGTERM or SIGINT: stop taking requests, let those in flight finish and interrupt background jobs (resumed
            // at the next start); whatever still runs after 8 s is cancelled, so the process is gone within 10 s.
            var group = ServiceGroupConfiguration(services: [.init(service: app)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            group.maximumGracefulShutdownDuration = .seconds(8)
            try await ServiceGroup(configuration: group).run()
        } catch let error as DataSealer.Failure {
            await store.close()
            throw ValidationError(error.description)
        } catch let error as ServerConfiguration.Invalid {
            await store.close()
            throw ValidationError(error.description)
        }
        await store.close()
    }
}

extension Serve {
    /// Logs go to standard output as text, or as JSON lines with `OMNIFIN_LOG_FORMAT=json`, or as JSON lines into
    /// `OMNIFIN_LOG_FILE` rotated at `OMNIFIN_LOG_MAX_BYTES` (default 10 MB, five old files kept).
    static func bootstrapLogging(_ settings: Settings) throws {
        if let path = settings.logFile {
            let file: RotatingLogFile
            do {
                file = try RotatingLogFile(path: path, maximumBytes: settings.logMaximumBytes)
            } catch {
                throw ValidationError("OMNIFIN_LOG_FILE \(path) cannot be written: \(error)")
            }
            LoggingSystem.bootstrap { label in JSONLogHandler(label: label, file: file) }
        } else if settings.jsonLogs {
            LoggingSystem.bootstrap { label in JSONLogHandler(label: label, file: nil) }
        }
    }
}
