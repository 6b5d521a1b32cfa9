import Testing
@testable import SocialMongo

/// The shard-key check itself (the queries of every store test go through it in `MongoFixture.dispose`).
@Suite struct MongoShardKeyTests {
    @Test func aQueryThatNamesItsKeyPassesOneThatDoesNotIsReported() {
        let keyed = MongoQueryLog.Entry(collection: MongoSchema.messages, operation: "find", fields: ["chat", "seq"])
        let unkeyed = MongoQueryLog.Entry(collection: MongoSchema.messages, operation: "find", fields: ["sender"])
        let byId = MongoQueryLog.Entry(collection: MongoSchema.notifications, operation: "updateOne", fields: ["_id", "held"])
        let bots = MongoQueryLog.Entry(collection: MongoSchema.bots, operation: "find", fields: [])
        let known = MongoQueryLog.Entry(collection: MongoSchema.chats, operation: "find", fields: ["da", "db"])
        #expect(MongoShardKeys.unkeyed([keyed, unkeyed, byId, bots, known]) == [unkeyed, byId])
    }

    @Test func everyShardedCollectionHasAKeyAndEveryScatterReadAReason() {
        for collection in [MongoSchema.messages, MongoSchema.chats, MongoSchema.members, MongoSchema.invitations,
                           MongoSchema.notifications, MongoSchema.notifyCounters] {
            #expect(MongoShardKeys.keys[collection] != nil, "\(collection)")
        }
        for (entry, reason) in MongoShardKeys.scatter {
            #expect(!entry.fields.contains(MongoShardKeys.keys[entry.collection] ?? "-"), "\(entry) names its key")
            #expect(reason.count > 40)
        }
    }

    @Test func recordsOnlyOnceStarted() {
        let log = MongoQueryLog()
        log.record(MongoSchema.chats, "find", ["_id": "g_1"])
        #expect(log.recorded.isEmpty)
        log.start()
        log.record(MongoSchema.chats, "find", ["_id": "g_1", "seq": 3])
        #expect(log.recorded == [.init(collection: MongoSchema.chats, operation: "find", fields: ["_id", "seq"])])
    }
}
