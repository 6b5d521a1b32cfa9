/// Collections and indexes. Field names are short: they repeat in every document.
///
/// - `chats`: `_id` (chat id), `kind`, `title`, `open`, `owner`, `da`/`db`
///   (a direct chat's sorted users), `seq` (the chat's position and counter),
///   `at`, and `pending` (the change claimed at `seq` while it is applied; see `ChatLog`).
/// - `members`: `chat`, `user`, `role`, `read`, `joined`, `on` (false once
///   left: the document stays as a fence), `v` (seq of the last change applied to it).
/// - `invitations`: `chat`, `user`, `by`, `at`, `on`, `v`.
/// - `messages`: `chat`, `seq`, `useq` (updated seq), `sender`, `sk` (sender
///   kind), `kind`, `text`, `cmid` (client message id), `reply`, `att`, `data`
///   (JSON text), `sys`, `at`, `edited`, `del`, `rx` (reactions: `{u, e}` pairs).
/// - `notifications`: `_id` (`<id>:<user>`), `user`, `id` (per user), `type`,
///   `title`, `body`, `data` (JSON text), `pri`, `exp` (expiry, `Int64.max`
///   for none, so one range filter serves both), `key` (idempotency key, absent
///   when none), `st` (status), `held`, `push`, `at`; of a pushed one, `pg`
///   (the push's first id); of that first one, `lease` (ms since 1970: until
///   when the pushing node owns the push) and `digest`.
/// - `notify_counters`: `_id` (user), `n` (the user's last notification id),
///   advanced by compare-and-set.
enum MongoSchema {
    static let chats = "chats"
    static let members = "members"
    static let invitations = "invitations"
    static let messages = "messages"
    /// Bot accounts (`MongoChatStore+Bots`); `_id` is the bot id, so no other index.
    static let bots = "bots"
    static let notifications = "notifications"
    static let notifyCounters = "notify_counters"

    /// `createIndexes` commands, one per collection. Creating an index that
    /// exists with the same options is a no-op, so every start-up runs them.
    static let indexCommands: [BSONDocument] = [
        createIndexes(chats, [
            // One direct chat per pair of users; groups have no `da`.
            index("direct_pair", ["da": 1, "db": 1], unique: true, partial: ["da": ["$exists": true]]),
        ]),
        createIndexes(members, [
            index("chat_user", ["chat": 1, "user": 1], unique: true),
            index("user_chat", ["user": 1, "chat": 1]),
        ]),
        createIndexes(invitations, [
            index("chat_user", ["chat": 1, "user": 1], unique: true),
            index("user_chat", ["user": 1, "chat": 1]),
        ]),
        createIndexes(messages, [
            index("chat_seq", ["chat": 1, "seq": 1], unique: true),
            // Idempotent sends: a partial index, so messages without a client id are not indexed.
            index("chat_client", ["chat": 1, "sender": 1, "cmid": 1], unique: true, partial: ["cmid": ["$exists": true]]),
            index("chat_updated", ["chat": 1, "useq": 1]),
        ]),
        createIndexes(notifications, [
            index("user_id", ["user": 1, "id": 1], unique: true),
            // Idempotent creates: one notification per user and key.
            index("user_key", ["user": 1, "key": 1], unique: true, partial: ["key": ["$exists": true]]),
            // Stalled pushes: only a push's first notification has a lease.
            index("push_lease", ["push": 1, "lease": 1], partial: ["lease": ["$exists": true]]),
        ]),
    ]

    private static func createIndexes(_ collection: String, _ indexes: [BSON]) -> BSONDocument {
        ["createIndexes": .string(collection), "indexes": .array(indexes)]
    }

    private static func index(_ name: String, _ key: BSONDocument, unique: Bool = false,
                              partial: BSONDocument? = nil) -> BSON {
        var spec: BSONDocument = ["name": .string(name), "key": .document(key)]
        if unique { spec["unique"] = true }
        if let partial { spec["partialFilterExpression"] = .document(partial) }
        return .document(spec)
    }
}
