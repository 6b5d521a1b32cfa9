/// The shard keys of the store's collections in a sharded MongoDB cluster
/// (README, "Capacity planning"): each query names its collection's key, so
/// `mongos` sends it to one shard (or, for `$in` on the key, to the shards
/// holding those values) instead of all of them.
///
/// - `messages`: `chat` (a chat's log lives on one shard; `chat_seq` and the
///   other indexes already start with it).
/// - `chats`: `_id`, the chat id.
/// - `members` (read markers), `invitations`, `notifications`: `user` (a
///   user's chats, read markers and inbox on one shard; the unique indexes
///   become `{user, chat}` and `{user, id}`, shard key first).
/// - `notify_counters`: `_id`, the user id.
/// - `bots`: not sharded (a few documents, read whole every few seconds).
///
/// Threads: constants; any thread.
enum MongoShardKeys {
    static let keys: [String: String] = [
        MongoSchema.messages: "chat",
        MongoSchema.chats: "_id",
        MongoSchema.members: "user",
        MongoSchema.invitations: "user",
        MongoSchema.notifications: "user",
        MongoSchema.notifyCounters: "_id",
    ]

    /// Queries that cannot name their collection's key today, each with why
    /// and what the sharded design does instead: every other recorded query
    /// must name its key.
    static let scatter: [MongoQueryLog.Entry: String] = [
        .init(collection: MongoSchema.chats, operation: "find", fields: ["da", "db"]):
            "a direct chat is found by its pair of users; sharded, its id is derived from the pair (d_ + a hash of "
            + "the sorted ids) so the lookup is by _id, and the unique index direct_pair goes",
        .init(collection: MongoSchema.members, operation: "find", fields: ["chat", "on"]):
            "a group's member list (group.members) reads the members by chat: with members sharded by user it asks "
            + "every shard; rare and paged by the caller, so kept as a scatter-gather read",
        .init(collection: MongoSchema.notifications, operation: "find", fields: ["push", "lease"]):
            "the pushes whose lease ended (their node stopped or died) are looked for across all users, every 5 s "
            + "and at start, by the index on (push, lease); each claim then names its user",
    ]

    /// The recorded queries that neither name their collection's key nor
    /// are known scatter-gather reads.
    static func unkeyed(_ entries: [MongoQueryLog.Entry]) -> [MongoQueryLog.Entry] {
        entries.filter { entry in
            guard let key = keys[entry.collection] else { return false }  // not sharded
            return !entry.fields.contains(key) && scatter[entry] == nil
        }
    }
}
