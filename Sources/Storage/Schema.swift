/// The schema, as named migrations that are only ever appended (never edited once released).
///
/// Each migration has its PostgreSQL and its SQLite text; both describe the same tables. Times are
/// `TIMESTAMPTZ` in PostgreSQL and GRDB's UTC text in SQLite; JSON is text in both.
enum Schema {
    struct Migration: Sendable {
        let name: String
        let postgres: [String]
        let sqlite: [String]
    }

    static let migrations: [Migration] = [
        Migration(
            name: "001-knowledge",
            postgres: knowledgeTables(integer: "BIGINT", time: "TIMESTAMPTZ", bytes: "BYTEA"),
            sqlite: knowledgeTables(integer: "INTEGER", time: "DATETIME", bytes: "BLOB")
        ),
        // Accounts, conversations, prompts, analytics, audit, mail and ingest jobs: the tables the REST API,
        // chat and ingest issues fill. Defined now so every later change is an appended migration.
        Migration(
            name: "002-platform",
            postgres: platformTables(id: "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", time: "TIMESTAMPTZ", bytes: "BYTEA", bool: "BOOLEAN"),
            sqlite: platformTables(id: "INTEGER PRIMARY KEY AUTOINCREMENT", time: "DATETIME", bytes: "BLOB", bool: "BOOLEAN")
        ),
        // A registration's password waits in its confirmation token until the link is opened, so registering someone
        // else's address first cannot choose the password their account ends up with.
        Migration(
            name: "003-pending-passwords",
            postgres: ["ALTER TABLE auth_tokens ADD COLUMN pending_password_hash TEXT"],
            sqlite: ["ALTER TABLE auth_tokens ADD COLUMN pending_password_hash TEXT"]
        ),
        // Background knowledge jobs (a large document, an import) report what they produced.
        Migration(
            name: "004-job-results",
            postgres: ["ALTER TABLE ingest_jobs ADD COLUMN result TEXT", "CREATE INDEX ingest_jobs_status ON ingest_jobs (status, created_at)"],
            sqlite: ["ALTER TABLE ingest_jobs ADD COLUMN result TEXT", "CREATE INDEX ingest_jobs_status ON ingest_jobs (status, created_at)"]
        ),
        // Personal API keys are tokens too (stored hashed, revocable): with a public id, a name and a scope.
        Migration(
            name: "005-api-keys",
            postgres: apiKeyColumns,
            sqlite: apiKeyColumns
        ),
    ]

    private static let apiKeyColumns = [
        "ALTER TABLE auth_tokens ADD COLUMN key_id TEXT", "ALTER TABLE auth_tokens ADD COLUMN name TEXT", "ALTER TABLE auth_tokens ADD COLUMN scope TEXT",
        "CREATE UNIQUE INDEX auth_tokens_key_id ON auth_tokens (key_id)",
    ]

    private static func knowledgeTables(integer: String, time: String, bytes: String) -> [String] {
        [
            "CREATE TABLE counters (name TEXT PRIMARY KEY, value \(integer) NOT NULL)",
            "INSERT INTO counters (name, value) VALUES ('generation', 0), ('chunk_id', 0)",
            """
            CREATE TABLE documents (
                id TEXT PRIMARY KEY,
                source TEXT NOT NULL,
                external_id TEXT,
                title TEXT NOT NULL,
                body TEXT NOT NULL,
                kind TEXT NOT NULL,
                metadata TEXT NOT NULL DEFAULT '{}',
                access TEXT NOT NULL DEFAULT '[]',
                content_hash TEXT NOT NULL,
                created_at \(time) NOT NULL,
                updated_at \(time) NOT NULL,
                UNIQUE (source, external_id)
            )
            """,
            """
            CREATE TABLE chunks (
                id \(integer) PRIMARY KEY,
                document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
                ordinal INTEGER NOT NULL,
                text TEXT NOT NULL,
                start_offset INTEGER NOT NULL,
                end_offset INTEGER NOT NULL,
                token_count INTEGER NOT NULL,
                content_hash TEXT NOT NULL,
                embedding \(bytes) NOT NULL,
                embedding_model TEXT NOT NULL,
                embedding_dimension INTEGER NOT NULL,
                UNIQUE (document_id, ordinal)
            )
            """,
            """
            CREATE TABLE knowledge_changes (
                generation \(integer) NOT NULL,
                document_id TEXT NOT NULL,
                operation TEXT NOT NULL,
                changed_at \(time) NOT NULL,
                PRIMARY KEY (generation, document_id)
            )
            """,
        ]
    }

    private static func platformTables(id: String, time: String, bytes: String, bool: String) -> [String] {
        [
            """
            CREATE TABLE users (
                id TEXT PRIMARY KEY,
                email TEXT NOT NULL UNIQUE,
                display_name TEXT NOT NULL,
                password_hash TEXT NOT NULL,
                role TEXT NOT NULL,
                groups TEXT NOT NULL DEFAULT '[]',
                verified_at \(time),
                disabled_at \(time),
                created_at \(time) NOT NULL,
                updated_at \(time) NOT NULL
            )
            """,
            """
            CREATE TABLE auth_tokens (
                token_hash TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                purpose TEXT NOT NULL,
                csrf_hash TEXT,
                created_at \(time) NOT NULL,
                expires_at \(time) NOT NULL,
                revoked_at \(time),
                last_used_at \(time)
            )
            """,
            "CREATE INDEX auth_tokens_user ON auth_tokens (user_id)",
            """
            CREATE TABLE conversations (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                title TEXT NOT NULL,
                created_at \(time) NOT NULL,
                updated_at \(time) NOT NULL
            )
            """,
            "CREATE INDEX conversations_user ON conversations (user_id, updated_at)",
            """
            CREATE TABLE messages (
                id TEXT PRIMARY KEY,
                conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
                role TEXT NOT NULL,
                content_sealed \(bytes) NOT NULL,
                citations TEXT NOT NULL DEFAULT '[]',
                timings TEXT NOT NULL DEFAULT '{}',
                generator TEXT,
                answered \(bool),
                feedback INTEGER,
                created_at \(time) NOT NULL
            )
            """,
            "CREATE INDEX messages_conversation ON messages (conversation_id, created_at)",
            """
            CREATE TABLE prompts (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                version INTEGER NOT NULL,
                template TEXT NOT NULL,
                active \(bool) NOT NULL,
                created_by TEXT,
                created_at \(time) NOT NULL,
                UNIQUE (name, version)
            )
            """,
            """
            CREATE TABLE analytics_events (
                id \(id),
                kind TEXT NOT NULL,
                user_id TEXT,
                occurred_at \(time) NOT NULL,
                data TEXT NOT NULL DEFAULT '{}'
            )
            """,
            "CREATE INDEX analytics_events_time ON analytics_events (occurred_at, kind)",
            """
            CREATE TABLE audit_log (
                id \(id),
                occurred_at \(time) NOT NULL,
                actor_id TEXT,
                action TEXT NOT NULL,
                target TEXT,
                ip TEXT,
                detail TEXT NOT NULL DEFAULT '{}'
            )
            """,
            "CREATE INDEX audit_log_time ON audit_log (occurred_at)",
            """
            CREATE TABLE outbox (
                id \(id),
                kind TEXT NOT NULL,
                recipient TEXT NOT NULL,
                subject TEXT NOT NULL,
                body TEXT NOT NULL,
                created_at \(time) NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at \(time) NOT NULL,
                last_error TEXT,
                sent_at \(time)
            )
            """,
            """
            CREATE TABLE ingest_jobs (
                id TEXT PRIMARY KEY,
                source TEXT NOT NULL,
                format TEXT NOT NULL,
                input TEXT NOT NULL,
                status TEXT NOT NULL,
                total INTEGER,
                processed INTEGER NOT NULL DEFAULT 0,
                failed INTEGER NOT NULL DEFAULT 0,
                errors TEXT NOT NULL DEFAULT '[]',
                checkpoint TEXT,
                created_by TEXT,
                created_at \(time) NOT NULL,
                updated_at \(time) NOT NULL
            )
            """,
        ]
    }
}
