import Accounts
import Chat
import Foundation
public import Hummingbird
import HummingbirdAuth
import HummingbirdCore
import HummingbirdTLS
public import Logging
import Mail
import NIOPosix
import NIOSSL
import Redis
public import Retrieval
import ServiceLifecycle
import Settings
public import Storage
import Voice

/// What the routes share: the stores, the bank, and the services built over them.
public struct ServerDependencies: Sendable {
    let store: any OmnifinStore
    /// The store's accounts for the routes: changes that end sessions also drop them from `sessions`.
    let accounts: any AccountStore
    /// Validated sessions: in Redis when `OMNIFIN_REDIS_URL` is set (shared by every replica), else in memory.
    let sessions: any SessionCache
    let bank: KnowledgeBank
    let configuration: ServerConfiguration
    let sealer: DataSealer
    let mailer: Mailer
    /// The speech tools voice chat uses: the built-in ones when their models are installed (the Whisper model `make
    /// model` fetches, Debian's espeak-ng-data), or an OpenAI-compatible API.
    let speechToText: (any SpeechToText)?
    let textToSpeech: (any TextToSpeech)?
    /// The built-in recogniser when it is the one in use: its prompt of names follows the knowledge bank.
    let recognizer: WhisperRecognizer?
    /// Rate-limit buckets: in Redis when `OMNIFIN_REDIS_URL` is set (shared by every replica), else in memory.
    let limiter: any RateLimiting
    let redisHealth: RedisHealth?
    let snapshotHealth: SnapshotHealth
    /// A valid hash (at the configured cost) of nothing anyone knows, checked when a login names no account.
    let decoyHash: String
    /// Analytics events, written in batches (``AnalyticsFlusher`` writes the last ones at shutdown).
    let analytics: AnalyticsRecorder
    /// The audit log.
    let audit: AuditTrail
    /// Who may sign up, settled (``ServerConfiguration/signup`` or its default).
    let signup: SignupPolicy
    /// The first administrator's setup token, while there is none.
    let setup: AdminSetup
    /// Large documents and imports, written in the background.
    let jobs: KnowledgeJobs
    /// Why voice chat is off, when it is.
    let voiceOffReason: String
    /// Retrieval, prompt and generation of a chat turn (shared by the routes and the warm-up at start).
    let answerer: Answerer
    let logger: Logger

    /// Loads the data key, builds the mail transport and seeds the default prompts.
    /// - Throws: ``DataSealer/Failure`` for a bad data key, store errors.
    public static func make(store: any OmnifinStore, bank: KnowledgeBank, configuration: ServerConfiguration, logger: Logger) async throws
        -> ServerDependencies
    {
        let sealer = try DataSealer.load(base64: configuration.dataKey, keyFile: configuration.dataKeyFile)
        let transport: any MailTransport
        if let url = configuration.smtpURL {
            var smtp = try SMTPTransport.parse(url)
            smtp.verifyCertificates = configuration.smtpVerifyCertificates
            transport = smtp
        } else {
            transport = FileMailTransport(directory: configuration.mailDirectory)
        }
        logger.info("e-mail goes to \(transport.description)")
        let mailer = Mailer(outbox: store, transport: transport, sealer: sealer, retryBase: configuration.mailRetryBase, logger: logger)
        try await PromptTemplate.seedDefaults(store)
        let decoy = try await PasswordHashing.hash(UUID().uuidString, cost: configuration.bcryptCost)
        var recognizer: WhisperRecognizer?
        let speechToText: (any SpeechToText)?
        var voiceOff: [String] = []
        switch configuration.speech.stt {
        case .builtin:
            do {
                recognizer = try WhisperRecognizer(modelPath: configuration.speech.whisperModel, options: configuration.speech.whisper)
            } catch {
                voiceOff.append("the built-in recogniser could not load its model (make model fetches it): \(error)")
            }
            speechToText = recognizer
        case .api(let api, let model):
            speechToText = OpenAITranscriber(api: api, model: model)
        case .off:
            speechToText = nil
            voiceOff.append("speech recognition is switched off (OMNIFIN_STT=none)")
        }
        let textToSpeech: (any TextToSpeech)?
        switch configuration.speech.tts {
        case .builtin:
            textToSpeech = SpeechSynthesizer.available ? SpeechSynthesizer() : nil
            if textToSpeech == nil { voiceOff.append("the built-in voice is not installed (espeak-ng-data)") }
        case .api(let api, let model): textToSpeech = OpenAISpeaker(api: api, model: model, voice: configuration.speech.ttsVoice)
        case .off:
            textToSpeech = nil
            voiceOff.append("speech synthesis is switched off (OMNIFIN_TTS=none)")
        }
        if speechToText == nil || textToSpeech == nil {
            logger.warning("voice chat is off: \(voiceOff.joined(separator: "; "))")
        } else {
            logger.info("voice chat: speech to text by \(speechToText!.name), text to speech by \(textToSpeech!.name)")
        }
        var limiter: any RateLimiting = RateLimiter()
        var sessions: any SessionCache = MemorySessionCache()
        var redisHealth: RedisHealth?
        if let redis = configuration.redis {
            let client = RedisClient(redis)
            let health = RedisHealth(description: redis.description, logger: logger)
            do {
                try await client.ping()
                logger.info("rate limits, sessions and query vectors are shared through Redis at \(redis.description)")
            } catch {
                health.failed(error)
            }
            limiter = SharedRateLimiter(redis: client, health: health, prefix: configuration.redisKeyPrefix + "rate:")
            sessions = RedisSessionCache(redis: client, health: health, prefix: configuration.redisKeyPrefix)
            bank.queryCache = RedisQueryVectorCache(redis: client, health: health, prefix: configuration.redisKeyPrefix)
            redisHealth = health
        }
        // Registration never makes an administrator: without one, this start prints a one-time setup link.
        var setup = AdminSetup()
        if try await store.users(matching: UserQuery(role: "admin", status: .active, limit: 1)).users.isEmpty {
            let (pending, token) = AdminSetup.pending()
            setup = pending
            logger.notice(
                "no administrator yet: create one at \(configuration.publicURL)/setup?token=\(token) (works once, until the next start), or run omnifin admin create-user --role admin")
        }
        let signup = configuration.signup ?? .invite
        logger.info("sign-up: \(signup.name) (OMNIFIN_SIGNUP)")
        let accounts = AccountsWithSessionCache(base: store, sessions: sessions)
        let audit = AuditTrail(store: store, logger: logger)
        let answerer = Answerer(bank: bank, prompts: store, configuration: configuration.chat, logger: logger)
        if let engine = answerer.engine {
            do {
                try engine.checkFiles()
            } catch {
                throw ServerConfiguration.Invalid(error.description)
            }
            logger.info("answers by \(engine.configuration.modelName) in a llama.cpp engine run by Omnifin (\(engine.configuration.server))")
        }
        return ServerDependencies(
            store: store, accounts: accounts, sessions: sessions, bank: bank,
            configuration: configuration, sealer: sealer, mailer: mailer, speechToText: speechToText, textToSpeech: textToSpeech,
            recognizer: recognizer, limiter: limiter, redisHealth: redisHealth,
            snapshotHealth: SnapshotHealth(path: bank.configuration.snapshotPath), decoyHash: decoy,
            analytics: AnalyticsRecorder(store: store, logger: logger), audit: audit, signup: signup, setup: setup,
            jobs: KnowledgeJobs(bank: bank, jobs: store, accounts: accounts, directory: configuration.importDirectory, audit: audit, logger: logger),
            voiceOffReason: voiceOff.joined(separator: "; "),
            answerer: answerer, logger: logger)
    }
}

/// The routes of the API.
public func buildRouter(_ dependencies: ServerDependencies) -> Router<AppRequestContext> {
    let store = dependencies.store
    let bank = dependencies.bank
    let configuration = dependencies.configuration
    let router = Router(context: AppRequestContext.self)
    let metrics = ServerMetrics()
    let audit = dependencies.audit
    let analytics = dependencies.analytics
    router.add(middleware: ClientAddressMiddleware(trusted: configuration.trustedProxies))
    router.add(middleware: SecurityHeadersMiddleware(hsts: configuration.tlsCertificatePath != nil))
    router.add(middleware: AccessLogMiddleware())
    router.add(middleware: MetricsMiddleware(metrics: metrics))
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: AuditMiddleware(trail: audit, analytics: analytics))
    HealthController(
        bank: bank, redis: dependencies.redisHealth, snapshots: dependencies.snapshotHealth, engine: dependencies.answerer.engine,
        fallback: configuration.chat.fallbackToBuiltin
    ).addRoutes(to: router)
    WebAssets(directory: configuration.webDirectory).addRoutes(to: router)
    metrics.addRoute(to: router, bank: bank, snapshots: dependencies.snapshotHealth, token: configuration.metricsToken)

    let limiter = dependencies.limiter
    let accounts = dependencies.accounts
    let mail = AccountMail(accounts: accounts, mailer: dependencies.mailer, configuration: configuration)
    let auth = AuthController(
        accounts: accounts, mail: mail, audit: audit, analytics: analytics, sealer: dependencies.sealer,
        configuration: configuration, decoyHash: dependencies.decoyHash, limiter: limiter)
    // The public routes are limited per client address (login, resend and reset have their own, stricter limits).
    let publicAuth = router.group("api/auth").add(middleware: AddressRateLimitMiddleware(limiter: limiter, perMinute: configuration.rateLimitPerMinute))
    publicAuth.addRoutes(auth.publicEndpoints, atPath: "")
    publicAuth.addRoutes(
        RegistrationController(
            accounts: accounts, mail: mail, audit: audit, analytics: analytics, configuration: configuration, signup: dependencies.signup,
            setup: dependencies.setup, decoyHash: dependencies.decoyHash, limiter: limiter
        ).endpoints, atPath: "")
    publicAuth.addRoutes(
        PasswordResetController(accounts: accounts, mail: mail, audit: audit, configuration: configuration, limiter: limiter).endpoints, atPath: "")

    // Everything below needs a valid session token (and, for cookie sessions, the CSRF token on unsafe methods).
    let protected = router.group("api").add(middleware: TokenAuthenticator(accounts: accounts, sessions: dependencies.sessions)).add(middleware: RequireCaller())
        .add(middleware: CSRFMiddleware(sealer: dependencies.sealer))
        .add(middleware: RateLimitMiddleware(limiter: limiter, perMinute: configuration.rateLimitPerMinute))
    protected.addRoutes(auth.endpoints, atPath: "auth")
    protected.addRoutes(
        ImportController(bank: bank, jobs: dependencies.jobs, directory: configuration.importDirectory, audit: audit, logger: dependencies.logger).endpoints,
        atPath: "knowledge/import")
    protected.addRoutes(
        KnowledgeController(
            bank: bank, analytics: analytics, audit: audit, sealer: dependencies.sealer, jobs: dependencies.jobs,
            inlineBytes: configuration.inlineDocumentBytes, floor: configuration.chat.relevanceThreshold
        ).endpoints, atPath: "knowledge")
    let analyticsController = AnalyticsController(store: store, accounts: accounts, recorder: analytics, sealer: dependencies.sealer)
    protected.addRoutes(analyticsController.userEndpoints, atPath: "analytics")
    protected.addRoutes(analyticsController.adminEndpoints, atPath: "admin/analytics")
    protected.addRoutes(
        AdminUsersController(
            accounts: accounts, audit: audit, mailer: dependencies.mailer, mail: mail, configuration: configuration, signup: dependencies.signup
        ).endpoints,
        atPath: "admin/users")
    protected.addRoutes(PromptsController(prompts: store, audit: audit).endpoints, atPath: "admin/prompts")
    protected.addRoutes(AuditController(store: store).endpoints, atPath: "admin/audit")
    let answerer = dependencies.answerer
    let turns = ChatTurns(chat: ChatService(answerer: answerer, conversations: store, sealer: dependencies.sealer), analytics: analytics, sealer: dependencies.sealer)
    protected.addRoutes(
        ChatController(
            turns: turns, speechToText: dependencies.speechToText, textToSpeech: dependencies.textToSpeech,
            voiceOffReason: dependencies.voiceOffReason
        ).endpoints, atPath: "chat")
    protected.addRoutes(APIKeysController(accounts: accounts, audit: audit).endpoints, atPath: "auth/api-keys")
    // The clients' own protocols: OpenAI's chat completions and MCP, with a session token or a personal API key.
    let clients = router.group("").add(middleware: TokenAuthenticator(accounts: accounts, sessions: dependencies.sessions)).add(middleware: RequireCaller())
        .add(middleware: CSRFMiddleware(sealer: dependencies.sealer))
        .add(middleware: RateLimitMiddleware(limiter: limiter, perMinute: configuration.rateLimitPerMinute))
    let floor = configuration.chat.relevanceThreshold
    clients.addRoutes(OpenAIController(turns: turns, bank: bank, floor: floor).endpoints, atPath: "v1")
    clients.addRoutes(MCPController(turns: turns, bank: bank, floor: floor, publicURL: configuration.publicURL).endpoints, atPath: "mcp")
    protected.addRoutes(
        VoiceController(
            turns: turns, speechToText: dependencies.speechToText, textToSpeech: dependencies.textToSpeech, offReason: dependencies.voiceOffReason,
            confirmBelow: configuration.speech.confirmBelow
        ).endpoints, atPath: "chat")
    return router
}

/// The server over an open store and knowledge bank (what the tests build).
public func buildApplication(store: any OmnifinStore, bank: KnowledgeBank, configuration: ServerConfiguration, logger: Logger) async throws
    -> some ApplicationProtocol
{
    let dependencies = try await ServerDependencies.make(store: store, bank: bank, configuration: configuration, logger: logger)
    let router = buildRouter(dependencies)
    let server: HTTPServerBuilder
    if let certificate = configuration.tlsCertificatePath, let key = configuration.tlsKeyPath {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
            let tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
            server = try .tls(.http1(), tlsConfiguration: tls)
        } catch {
            throw ServerConfiguration.Invalid("cannot use OMNIFIN_TLS_CERT \(certificate) with OMNIFIN_TLS_KEY \(key): \(error)")
        }
    } else {
        server = .http1()
    }
    var app = Application(
        router: router, server: server,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Omnifin"), logger: logger)
    app.addServices(
        IndexSnapshotter(bank: bank, health: dependencies.snapshotHealth, logger: logger, interval: configuration.snapshotInterval))
    app.addServices(KnowledgeFollower(bank: bank, logger: logger, pollInterval: configuration.followInterval))
    app.addServices(MailDispatcher(mailer: dependencies.mailer, interval: configuration.mailPollInterval))
    app.addServices(AnalyticsFlusher(recorder: dependencies.analytics))
    app.addServices(dependencies.jobs)
    app.addServices(AnswerWarmUp(answerer: dependencies.answerer, logger: logger))
    if let engine = dependencies.answerer.engine { app.addServices(LlamaEngineService(engine: engine)) }
    if let recognizer = dependencies.recognizer {
        app.addServices(SpeechPromptService(bank: bank, recognizer: recognizer, logger: logger, interval: configuration.voicePromptInterval))
    }
    return app
}
