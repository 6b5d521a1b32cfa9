import SocialCore

/// Bot accounts in the `bots` collection: `_id` (bot id), `name`, `scopes`
/// (array), `hash` (hex SHA-256 of the secret), `off`, `at`, `upd`, `by`.
/// Every body runs on a worker thread.
extension MongoChatStore: BotStore {
    public func createBot(_ bot: BotAccount) async throws {
        try await runDB { db in
            do {
                try db.collection(MongoSchema.bots).insert(Self.document(bot))
            } catch let failure as MongoFailure where failure.isDuplicateKey {
                throw StoreError.conflict("bot \(bot.id) exists")
            }
        }
    }

    public func bot(_ id: String) async throws -> BotAccount? {
        try await runDB { db in
            try db.collection(MongoSchema.bots).findOne(["_id": .string(id)]).map(Self.bot)
        }
    }

    public func bots() async throws -> [BotAccount] {
        try await runDB { db in
            try db.collection(MongoSchema.bots).find([:], sort: ["_id": 1]).map(Self.bot)
        }
    }

    public func updateBot(_ bot: BotAccount) async throws {
        try await runDB { db in
            let result = try db.collection(MongoSchema.bots).updateOne(
                ["_id": .string(bot.id)],
                ["$set": .document(["hash": .string(bot.secretHash), "off": .bool(bot.disabled), "upd": .int64(bot.updatedAt)])])
            guard result.matched > 0 else { throw StoreError.notFound("bot \(bot.id)") }
        }
    }

    static func document(_ bot: BotAccount) -> BSONDocument {
        ["_id": .string(bot.id), "name": .string(bot.name), "scopes": .array(bot.scopes.map(BSON.string)),
         "hash": .string(bot.secretHash), "off": .bool(bot.disabled), "at": .int64(bot.createdAt),
         "upd": .int64(bot.updatedAt), "by": .string(bot.createdBy)]
    }

    static func bot(_ doc: BSONDocument) throws -> BotAccount {
        BotAccount(id: try doc.string("_id"), name: try doc.string("name"),
                   scopes: (doc["scopes"]?.array ?? []).compactMap(\.string), secretHash: try doc.string("hash"),
                   disabled: try doc.bool("off"), createdAt: try doc.int64("at"), updatedAt: try doc.int64("upd"),
                   createdBy: try doc.string("by"))
    }
}
