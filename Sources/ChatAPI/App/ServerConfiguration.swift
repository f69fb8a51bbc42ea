public import Accounts
public import Chat
public import Foundation
import Mail
import Redis
import Retrieval
public import Settings
public import Storage
public import Voice

/// How `omnifin serve` runs, from the environment (`OMNIFIN_*`) with command-line overrides.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var databaseURL: String
    /// The index snapshot file: the one set (`OMNIFIN_INDEX_SNAPSHOT`, `--snapshot`), else the database's own, so a
    /// server on another database never reads or overwrites this one's.
    public var snapshotPath: String {
        get { chosenSnapshotPath ?? DatabaseLocation.defaultSnapshotPath(for: databaseURL) }
        set { chosenSnapshotPath = newValue }
    }
    private var chosenSnapshotPath: String?
    /// The folder `.eml` files go to (`OMNIFIN_MAIL=file:DIR`).
    public var mailDirectory: String
    /// The SMTP server mail goes to instead (`OMNIFIN_MAIL=smtp://USER:PASSWORD@HOST:PORT?from=ADDRESS`).
    public var smtpURL: String?
    /// Certificate checks of the SMTP server (off only in tests, against a self-signed server).
    var smtpVerifyCertificates = true
    /// What links in e-mails start with.
    public var publicURL: String
    public var sessionLifetime: TimeInterval
    public var bcryptCost: UInt8
    /// Requests per minute per user on every authenticated route (`OMNIFIN_RATE_LIMIT_PER_MINUTE`, 0 = off).
    public var rateLimitPerMinute: Int
    /// Failed logins per minute per IP address and per account (`OMNIFIN_LOGIN_ATTEMPTS_PER_MINUTE`, 0 = off).
    public var loginAttemptsPerMinute: Int
    /// The data key in base64 (`OMNIFIN_DATA_KEY`); when absent, `dataKeyFile` is used (and created on first start).
    public var dataKey: String?
    public var dataKeyFile: String
    /// The pause before retrying a failed e-mail; it doubles per attempt.
    public var mailRetryBase: TimeInterval
    /// How often queued e-mail is retried.
    public var mailPollInterval: Duration
    /// PEM certificate chain and private key (`OMNIFIN_TLS_CERT`, `OMNIFIN_TLS_KEY`): the server speaks HTTPS itself
    /// and sends HSTS. Without them it speaks plain HTTP and expects a TLS-terminating proxy in front.
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    /// Where uploaded exports wait while their import job runs (`OMNIFIN_IMPORT_DIR`, default `var/imports`).
    public var importDirectory = "var/imports"
    /// Serve the web pages from this folder, read on every request, instead of the copy built into the binary
    /// (`OMNIFIN_WEB_DIR`; for working on the pages without rebuilding).
    public var webDirectory: String?
    /// How often the index snapshot is written when the knowledge has changed (`OMNIFIN_SNAPSHOT_INTERVAL` in seconds,
    /// default 300; 0: only at shutdown).
    public var snapshotInterval: Duration? = .seconds(300)
    /// How often the store's change log is read for writes made by other processes, besides PostgreSQL's
    /// notifications (`OMNIFIN_FOLLOW_INTERVAL` in seconds; default 2).
    public var followInterval: Duration = .seconds(2)
    /// Candidates the HNSW walk keeps per search (`OMNIFIN_HNSW_EF_SEARCH`, 1–10,000; a search keeps at least as many
    /// as the passages it ranks): higher finds more of the true nearest passages and costs time
    /// (docs/knowledge-bank.md "Search depth").
    public var efSearch = KnowledgeBank.HNSWConfigurationTemplate().efSearch
    /// How often the knowledge bank is checked for changes that call for a new prompt of names for the recogniser.
    var voicePromptInterval: Duration = .seconds(30)
    /// How answers are made (the LLM API or the built-in answerer, budgets, the relevance threshold).
    public var chat: ChatConfiguration
    /// Redis for rate limits shared by every replica (`OMNIFIN_REDIS_URL=redis://[user:password@]host:port/db`).
    var redis: RedisClient.Configuration?
    /// What every Redis key starts with (tests give each run its own).
    var redisKeyPrefix = "omnifin:"
    /// Which speech tools voice chat uses (`OMNIFIN_STT`, `OMNIFIN_TTS`: built-in, an OpenAI-compatible API, or none).
    public var speech = SpeechConfiguration()
    /// Who may sign up (`OMNIFIN_SIGNUP`); `nil`: not set, so `invite`, except that `omnifin serve --demo` is `open`.
    public var signup: SignupPolicy?
    /// Proxies whose `Forwarded` / `X-Forwarded-For` headers name the client (`OMNIFIN_TRUSTED_PROXIES`, CIDRs,
    /// comma-separated); no one's by default.
    public var trustedProxies: [IPNetwork] = []
    /// The bearer token `/metrics` asks for (`OMNIFIN_METRICS_TOKEN`); without one it answers only this machine.
    public var metricsToken: String?
    /// The largest document body in UTF-8 bytes (`OMNIFIN_MAX_DOCUMENT_BYTES`, default 2 MB).
    public var maximumDocumentBytes = KnowledgeBank.Configuration.defaultMaximumDocumentBytes
    /// Document bodies up to this many bytes are written while the request waits; larger ones by a background job
    /// (`OMNIFIN_INLINE_DOCUMENT_BYTES`, default 64 KB).
    public var inlineDocumentBytes = 64 << 10

    public init(
        host: String = "127.0.0.1", port: Int = 8080, databaseURL: String = DatabaseLocation.defaultURL, snapshotPath: String? = nil,
        mailDirectory: String = "var/mail", publicURL: String? = nil, sessionLifetime: TimeInterval = 7 * 24 * 3600, bcryptCost: UInt8 = 12,
        rateLimitPerMinute: Int = 600, loginAttemptsPerMinute: Int = 10, dataKey: String? = nil, dataKeyFile: String = "var/data.key",
        mailRetryBase: TimeInterval = 30, mailPollInterval: Duration = .seconds(5), chat: ChatConfiguration = ChatConfiguration()
    ) {
        self.host = host
        self.port = port
        self.databaseURL = databaseURL
        self.chosenSnapshotPath = snapshotPath
        self.mailDirectory = mailDirectory
        self.publicURL = publicURL ?? "http://\(host):\(port)"
        self.sessionLifetime = sessionLifetime
        self.bcryptCost = bcryptCost
        self.rateLimitPerMinute = rateLimitPerMinute
        self.loginAttemptsPerMinute = loginAttemptsPerMinute
        self.dataKey = dataKey
        self.dataKeyFile = dataKeyFile
        self.mailRetryBase = mailRetryBase
        self.mailPollInterval = mailPollInterval
        self.chat = chat
    }

    /// A setting that cannot be used, naming the variable.
    public typealias Invalid = Settings.Invalid

    /// The server's configuration from the settings (`OMNIFIN_*`, read once by ``Settings/read(_:)``).
    /// - Throws: ``Invalid`` for an `OMNIFIN_MAIL`, `OMNIFIN_REDIS_URL` or `OMNIFIN_SIGNUP` that cannot be used.
    public init(_ settings: Settings) throws(Invalid) {
        self.init()
        if let host = settings.host { self.host = host }
        if let port = settings.port { self.port = port }
        if let url = settings.databaseURL { databaseURL = url }
        if let path = settings.snapshotPath { chosenSnapshotPath = path }
        if let mail = settings.mail {
            if mail.hasPrefix("file:") {
                mailDirectory = String(mail.dropFirst(5))
            } else {
                do {
                    _ = try SMTPTransport.parse(mail)
                } catch {
                    throw Invalid("OMNIFIN_MAIL: \(error.message)")
                }
                smtpURL = mail
            }
        }
        if let limit = settings.rateLimitPerMinute { rateLimitPerMinute = limit }
        if let limit = settings.loginAttemptsPerMinute { loginAttemptsPerMinute = limit }
        if let ef = settings.hnswEfSearch { efSearch = ef }
        chat = ChatConfiguration(settings)
        speech = SpeechConfiguration(settings)
        tlsCertificatePath = settings.tlsCertificate
        tlsKeyPath = settings.tlsKey
        dataKey = settings.dataKey
        if let directory = settings.importDirectory { importDirectory = directory }
        if let path = settings.dataKeyFile { dataKeyFile = path }
        webDirectory = settings.webDirectory
        if let interval = settings.snapshotInterval { snapshotInterval = interval }
        if let interval = settings.followInterval { followInterval = interval }
        if let url = settings.redisURL {
            do {
                redis = try RedisClient.Configuration(url: url)
            } catch {
                throw Invalid("OMNIFIN_REDIS_URL \(error.message)")
            }
        }
        if let raw = settings.signup { signup = try SignupPolicy.parse(raw) }
        trustedProxies = settings.trustedProxies
        metricsToken = settings.metricsToken
        if let bytes = settings.maximumDocumentBytes { maximumDocumentBytes = bytes }
        if let bytes = settings.inlineDocumentBytes { inlineDocumentBytes = bytes }
        publicURL = settings.publicURL ?? "\(tlsCertificatePath == nil ? "http" : "https")://\(host):\(port)"
    }

    /// The server's configuration from these variables.
    /// - Throws: ``Invalid`` naming the variable that is wrong.
    public static func fromEnvironment(_ environment: [String: String]) throws(Invalid) -> ServerConfiguration {
        try ServerConfiguration(try Settings.read(environment))
    }
}
