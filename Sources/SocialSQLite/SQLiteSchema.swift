import SocialCore

/// The database schema, versioned with `PRAGMA user_version`: migration `i`
/// takes the database from version `i` to `i + 1`. Never edit a shipped
/// migration; append a new one.
///
/// Design notes:
/// - `chats.seq` is each chat's one counter; every log change takes `seq + 1`
///   in the same transaction as the change.
/// - Messages are clustered by `(chat_id, seq)`; `(chat_id, updated_seq)`
///   serves `changes(after:)`. Reaction counts are kept as a JSON column on the
///   message, updated in the same write as the `reactions` row, so reading a
///   message is one row.
/// - Optional structured fields (attachments, data, system event, reaction
///   counts) are JSON text, NULL when empty.
enum SQLiteSchema {
    static let migrations: [String] = [
        """
        CREATE TABLE chats (
            id          TEXT PRIMARY KEY,
            kind        TEXT NOT NULL,
            title       TEXT,
            is_open     INTEGER NOT NULL,
            owner       TEXT,
            direct_a    TEXT,
            direct_b    TEXT,
            seq         INTEGER NOT NULL,
            created_at  INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE UNIQUE INDEX chats_direct_pair ON chats(direct_a, direct_b) WHERE direct_a IS NOT NULL;

        CREATE TABLE members (
            chat_id     TEXT NOT NULL REFERENCES chats(id),
            user_id     TEXT NOT NULL,
            role        TEXT NOT NULL,
            read_seq    INTEGER NOT NULL,
            joined_at   INTEGER NOT NULL,
            PRIMARY KEY (chat_id, user_id)
        ) WITHOUT ROWID;
        CREATE INDEX members_by_user ON members(user_id, chat_id);

        CREATE TABLE invitations (
            chat_id     TEXT NOT NULL REFERENCES chats(id),
            user_id     TEXT NOT NULL,
            invited_by  TEXT NOT NULL,
            created_at  INTEGER NOT NULL,
            PRIMARY KEY (chat_id, user_id)
        ) WITHOUT ROWID;
        CREATE INDEX invitations_by_user ON invitations(user_id, chat_id);

        CREATE TABLE messages (
            chat_id       TEXT NOT NULL REFERENCES chats(id),
            seq           INTEGER NOT NULL,
            updated_seq   INTEGER NOT NULL,
            sender        TEXT NOT NULL,
            sender_kind   TEXT NOT NULL,
            kind          TEXT NOT NULL,
            text          TEXT,
            client_msg_id TEXT,
            reply_to      INTEGER,
            attachments   TEXT,
            data          TEXT,
            system        TEXT,
            created_at    INTEGER NOT NULL,
            edited_at     INTEGER,
            deleted       INTEGER NOT NULL,
            reactions     TEXT,
            PRIMARY KEY (chat_id, seq)
        ) WITHOUT ROWID;
        CREATE INDEX messages_by_update ON messages(chat_id, updated_seq);
        CREATE UNIQUE INDEX messages_by_client_id ON messages(chat_id, sender, client_msg_id)
            WHERE client_msg_id IS NOT NULL;

        CREATE TABLE reactions (
            chat_id     TEXT NOT NULL,
            seq         INTEGER NOT NULL,
            user_id     TEXT NOT NULL,
            emoji       TEXT NOT NULL,
            PRIMARY KEY (chat_id, seq, user_id, emoji),
            FOREIGN KEY (chat_id, seq) REFERENCES messages(chat_id, seq)
        ) WITHOUT ROWID;
        """,
        // v2: bot accounts (the backend API). `scopes` is space-separated;
        // `secret_hash` the hex SHA-256 of the secret, never the secret.
        """
        CREATE TABLE bots (
            id          TEXT PRIMARY KEY,
            name        TEXT NOT NULL,
            scopes      TEXT NOT NULL,
            secret_hash TEXT NOT NULL,
            disabled    INTEGER NOT NULL,
            created_at  INTEGER NOT NULL,
            updated_at  INTEGER NOT NULL,
            created_by  TEXT NOT NULL
        ) WITHOUT ROWID;
        """,
        // v3: notifications. `id` counts per user (the writer takes max + 1);
        // the key index makes a retried create find the first one.
        """
        CREATE TABLE notifications (
            user_id     TEXT NOT NULL,
            id          INTEGER NOT NULL,
            type        TEXT NOT NULL,
            title       TEXT NOT NULL,
            body        TEXT NOT NULL,
            data        TEXT,
            priority    TEXT NOT NULL,
            expires_at  INTEGER,
            idem_key    TEXT,
            status      TEXT NOT NULL,
            held        INTEGER NOT NULL,
            push        TEXT NOT NULL,
            created_at  INTEGER NOT NULL,
            PRIMARY KEY (user_id, id)
        ) WITHOUT ROWID;
        CREATE UNIQUE INDEX notifications_by_key ON notifications(user_id, idem_key) WHERE idem_key IS NOT NULL;
        CREATE INDEX notifications_held ON notifications(user_id, id) WHERE held = 1;
        """,
        // v4: pushes survive restarts. A push's notifications name its first
        // id (`push_group`); that first one (the leader) holds the lease and
        // whether it is a digest. Pushes pending from v3 become pushes of one
        // notification with an ended lease: the next start sends them.
        """
        ALTER TABLE notifications ADD COLUMN push_group INTEGER;
        ALTER TABLE notifications ADD COLUMN push_lease INTEGER;
        ALTER TABLE notifications ADD COLUMN push_digest INTEGER NOT NULL DEFAULT 0;
        UPDATE notifications SET push_group = id, push_lease = 0 WHERE push = 'pending';
        CREATE INDEX notifications_push_lease ON notifications(push_lease) WHERE push = 'pending' AND push_lease IS NOT NULL;
        """,
    ]

    /// Brings the database to the latest version, one transaction per migration.
    /// Threads: runs on the thread that owns `db` (store start-up).
    static func migrate(_ db: SQLiteConnection) throws {
        let version = try db.with("PRAGMA user_version") { try $0.first { $0.int64(0) } } ?? 0
        guard version <= migrations.count else {
            throw StoreError.unavailable("sqlite: database schema v\(version) is newer than this build (v\(migrations.count))")
        }
        for (index, sql) in migrations.enumerated() where index >= version {
            do {
                try db.execute("BEGIN IMMEDIATE;\n\(sql);\nPRAGMA user_version = \(index + 1);\nCOMMIT;")
            } catch {
                if !db.isAutocommit { try? db.execute("ROLLBACK") }
                throw error
            }
        }
    }
}
