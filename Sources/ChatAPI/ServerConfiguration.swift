public import Foundation
public import Storage
public import Retrieval

/// How `omnifin serve` runs, from the environment (`OMNIFIN_*`) with command-line overrides.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var databaseURL: String
    public var snapshotPath: String
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
    /// Where the speech recogniser's language model built from the knowledge bank is written (`OMNIFIN_VOICE_DIR`,
    /// default `var/voice`).
    public var voiceModelDirectory = "var/voice"
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
    /// How often the knowledge bank is checked for changes that call for a new speech language model.
    var voiceModelInterval: Duration = .seconds(30)
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
        host: String = "127.0.0.1", port: Int = 8080, databaseURL: String = DatabaseLocation.defaultURL, snapshotPath: String = "var/index.hnsw",
        mailDirectory: String = "var/mail", publicURL: String? = nil, sessionLifetime: TimeInterval = 7 * 24 * 3600, bcryptCost: UInt8 = 12,
        rateLimitPerMinute: Int = 600, loginAttemptsPerMinute: Int = 10, dataKey: String? = nil, dataKeyFile: String = "var/data.key",
        mailRetryBase: TimeInterval = 30, mailPollInterval: Duration = .seconds(5), chat: ChatConfiguration = ChatConfiguration()
    ) {
        self.host = host
        self.port = port
        self.databaseURL = databaseURL
        self.snapshotPath = snapshotPath
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

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads `OMNIFIN_HOST`, `OMNIFIN_PORT`, `OMNIFIN_DATABASE_URL`, `OMNIFIN_INDEX_SNAPSHOT`, `OMNIFIN_MAIL`,
    /// `OMNIFIN_PUBLIC_URL`, `OMNIFIN_RATE_LIMIT_PER_MINUTE`, `OMNIFIN_LOGIN_ATTEMPTS_PER_MINUTE`, `OMNIFIN_DATA_KEY`,
    /// `OMNIFIN_DATA_KEY_FILE`.
    /// - Throws: ``Invalid`` naming the variable that is wrong.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ServerConfiguration {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        var configuration = ServerConfiguration()
        if let host = value("OMNIFIN_HOST") { configuration.host = host }
        if let port = value("OMNIFIN_PORT") {
            guard let number = Int(port), (0...65535).contains(number) else { throw Invalid(description: "OMNIFIN_PORT '\(port)' is not a port number") }
            configuration.port = number
        }
        if let url = value("OMNIFIN_DATABASE_URL") { configuration.databaseURL = url }
        if let path = value("OMNIFIN_INDEX_SNAPSHOT") { configuration.snapshotPath = path }
        if let mail = value("OMNIFIN_MAIL") {
            if mail.hasPrefix("file:") {
                configuration.mailDirectory = String(mail.dropFirst(5))
            } else {
                _ = try SMTPTransport.parse(mail)
                configuration.smtpURL = mail
            }
        }
        for (name, keyPath) in [
            ("OMNIFIN_RATE_LIMIT_PER_MINUTE", \ServerConfiguration.rateLimitPerMinute),
            ("OMNIFIN_LOGIN_ATTEMPTS_PER_MINUTE", \ServerConfiguration.loginAttemptsPerMinute),
        ] {
            guard let raw = value(name) else { continue }
            guard let number = Int(raw), number >= 0 else { throw Invalid(description: "\(name) '\(raw)' is not a whole number ≥ 0") }
            configuration[keyPath: keyPath] = number
        }
        if let raw = value("OMNIFIN_HNSW_EF_SEARCH") {
            guard let number = Int(raw), (1...10_000).contains(number) else {
                throw Invalid(description: "OMNIFIN_HNSW_EF_SEARCH '\(raw)' is not a whole number in 1...10000")
            }
            configuration.efSearch = number
        }
        configuration.chat = try ChatConfiguration.fromEnvironment(environment)
        configuration.speech = try SpeechConfiguration.fromEnvironment(environment)
        configuration.tlsCertificatePath = value("OMNIFIN_TLS_CERT")
        configuration.tlsKeyPath = value("OMNIFIN_TLS_KEY")
        guard (configuration.tlsCertificatePath == nil) == (configuration.tlsKeyPath == nil) else {
            throw Invalid(description: "set both OMNIFIN_TLS_CERT and OMNIFIN_TLS_KEY (PEM files), or neither")
        }
        configuration.dataKey = value("OMNIFIN_DATA_KEY")
        if let directory = value("OMNIFIN_IMPORT_DIR") { configuration.importDirectory = directory }
        if let directory = value("OMNIFIN_VOICE_DIR") { configuration.voiceModelDirectory = directory }
        if let path = value("OMNIFIN_DATA_KEY_FILE") { configuration.dataKeyFile = path }
        configuration.webDirectory = value("OMNIFIN_WEB_DIR")
        if let raw = value("OMNIFIN_SNAPSHOT_INTERVAL") {
            guard let seconds = Double(raw), seconds == 0 || (seconds >= 1 && seconds <= 86_400) else {
                throw Invalid(description: "OMNIFIN_SNAPSHOT_INTERVAL '\(raw)' is not 0 or a number of seconds in 1...86400")
            }
            configuration.snapshotInterval = seconds == 0 ? nil : .milliseconds(Int(seconds * 1000))
        }
        if let raw = value("OMNIFIN_FOLLOW_INTERVAL") {
            guard let seconds = Double(raw), seconds >= 0.05, seconds <= 3600 else {
                throw Invalid(description: "OMNIFIN_FOLLOW_INTERVAL '\(raw)' is not a number of seconds in 0.05...3600")
            }
            configuration.followInterval = .milliseconds(Int(seconds * 1000))
        }
        if let url = value("OMNIFIN_REDIS_URL") { configuration.redis = try RedisClient.Configuration(url: url) }
        if let raw = value("OMNIFIN_SIGNUP") { configuration.signup = try SignupPolicy.parse(raw) }
        if let raw = value("OMNIFIN_TRUSTED_PROXIES") {
            configuration.trustedProxies = try raw.split(separator: ",").map { entry in
                do {
                    return try IPNetwork(String(entry))
                } catch let error as Invalid {
                    throw Invalid(description: "OMNIFIN_TRUSTED_PROXIES: \(error.description)")
                }
            }
        }
        if let token = value("OMNIFIN_METRICS_TOKEN") {
            guard token.count >= 16 else { throw Invalid(description: "OMNIFIN_METRICS_TOKEN must have at least 16 characters") }
            configuration.metricsToken = token
        }
        for (name, keyPath, range) in [
            ("OMNIFIN_MAX_DOCUMENT_BYTES", \ServerConfiguration.maximumDocumentBytes, 1_024...(64 << 20)),
            ("OMNIFIN_INLINE_DOCUMENT_BYTES", \ServerConfiguration.inlineDocumentBytes, 1_024...(64 << 20)),
        ] {
            guard let raw = value(name) else { continue }
            guard let number = Int(raw), range.contains(number) else {
                throw Invalid(description: "\(name) '\(raw)' is not a number of bytes from \(range.lowerBound) to \(range.upperBound)")
            }
            configuration[keyPath: keyPath] = number
        }
        configuration.publicURL =
            value("OMNIFIN_PUBLIC_URL") ?? "\(configuration.tlsCertificatePath == nil ? "http" : "https")://\(configuration.host):\(configuration.port)"
        return configuration
    }
}
