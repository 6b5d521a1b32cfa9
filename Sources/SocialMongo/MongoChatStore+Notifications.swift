import SocialCore

/// Notifications in MongoDB, shared by every node, without transactions:
/// - ids: the user's counter document is advanced by compare-and-set, so two
///   nodes never take the same id (a create that fails after taking one leaves a gap);
/// - idempotency: the key is looked up first, and the unique index
///   `user_key` turns a concurrent create with the same key into a duplicate
///   key, after which the first one is returned;
/// - digest claims: each held notification is released by a compare-and-set
///   on its `held` flag, so it lands in exactly one caller's claim.
/// Every body runs on a worker thread (`workers.run`).
extension MongoChatStore: NotificationStore {
    public func createNotification(_ draft: NotificationDraft, for user: UserID, held: Bool, push: PushState,
                                   pushLeaseUntil: Int64?, now: Int64) async throws -> (notification: Notification, created: Bool) {
        let lease = push == .pending ? pushLeaseUntil : nil
        let data = try StoredJSON.text(draft.data)
        return try await runDB { db in
            let inbox = db.collection(MongoSchema.notifications)
            if let key = draft.key, let existing = try inbox.findOne(["user": .string(user), "key": .string(key)]) {
                return (try Self.notification(existing), false)
            }
            let id = try Self.nextNotificationId(user, db)
            let made = Notification(userId: user, id: id, draft: draft, held: held, push: push, createdAt: now)
            var doc: BSONDocument = [
                "_id": .string("\(id):\(user)"), "user": .string(user), "id": .int64(id), "type": .string(draft.type),
                "title": .string(draft.title), "body": .string(draft.body), "pri": .string(draft.priority.rawValue),
                "exp": .int64(draft.expiresAt ?? Int64.max), "st": .string(made.status.rawValue), "held": .bool(held),
                "push": .string(push.rawValue), "at": .int64(now),
            ]
            doc.setOptional("data", data)
            doc.setOptional("key", draft.key.map(BSON.string))
            if let lease {
                // A push of its own: it leads itself (see `beginPush`).
                doc["pg"] = .int64(id)
                doc["lease"] = .int64(lease)
            }
            do {
                try inbox.insert(doc)
            } catch let failure as MongoFailure where failure.isDuplicateKey {
                // Another node created the same key meanwhile: that one is the notification.
                guard let key = draft.key,
                      let existing = try inbox.findOne(["user": .string(user), "key": .string(key)]) else { throw failure }
                return (try Self.notification(existing), false)
            }
            return (made, true)
        }
    }

    /// Takes the user's next notification id: compare-and-set on the counter, retried when another node won.
    private static func nextNotificationId(_ user: UserID, _ db: MongoConnection) throws -> Int64 {
        let counters = db.collection(MongoSchema.notifyCounters)
        for _ in 0..<100 {
            guard let counter = try counters.findOne(["_id": .string(user)]) else {
                do {
                    try counters.insert(["_id": .string(user), "n": 1])
                    return 1
                } catch let failure as MongoFailure where failure.isDuplicateKey {
                    continue    // created by another node meanwhile
                }
            }
            let last = try counter.int64("n")
            let result = try counters.updateOne(["_id": .string(user), "n": .int64(last)], ["$set": ["n": .int64(last + 1)]])
            if result.modified == 1 { return last + 1 }
        }
        throw StoreError.unavailable("mongo: notification counter of \(user) stayed contended")
    }

    public func notifications(of user: UserID, before: Int64?, unreadOnly: Bool, limit: Int,
                              now: Int64) async throws -> [Notification] {
        guard limit > 0 else { return [] }     // a MongoDB limit of 0 means no limit
        return try await runDB { db in
            var filter: BSONDocument = ["user": .string(user), "exp": ["$gt": .int64(now)]]
            if let before { filter["id"] = ["$lt": .int64(before)] }
            if unreadOnly { filter["st"] = .string(NotificationStatus.unread.rawValue) }
            return try db.collection(MongoSchema.notifications).find(filter, sort: ["id": -1], limit: limit)
                .map(Self.notification)
        }
    }

    public func notifications(of user: UserID, after: Int64, limit: Int, now: Int64) async throws -> [Notification] {
        guard limit > 0 else { return [] }
        return try await runDB { db in
            try db.collection(MongoSchema.notifications)
                .find(["user": .string(user), "id": ["$gt": .int64(after)], "exp": ["$gt": .int64(now)]],
                      sort: ["id": 1], limit: limit)
                .map(Self.notification)
        }
    }

    public func ackNotifications(of user: UserID, upTo: Int64?, ids: [Int64], status: NotificationStatus,
                                 now: Int64) async throws -> Int {
        try await runDB { db in
            let inbox = db.collection(MongoSchema.notifications)
            let unchanged: BSON = ["$nin": [.string(NotificationStatus.dismissed.rawValue), .string(status.rawValue)]]
            let update: BSONDocument = ["$set": ["st": .string(status.rawValue)]]
            var changed: Int64 = 0
            // Two updates rather than an `$or`: the second skips what the first changed.
            if let upTo {
                changed += try inbox.updateMany(["user": .string(user), "id": ["$lte": .int64(upTo)], "st": unchanged],
                                                update).modified
            }
            if !ids.isEmpty {
                changed += try inbox.updateMany(["user": .string(user), "id": ["$in": .array(ids.map(BSON.int64))],
                                                 "st": unchanged], update).modified
            }
            return Int(changed)
        }
    }

    public func unreadNotifications(of user: UserID, now: Int64) async throws -> Int {
        try await runDB { db in
            try db.collection(MongoSchema.notifications)
                .count(["user": .string(user), "st": .string(NotificationStatus.unread.rawValue), "exp": ["$gt": .int64(now)]])
        }
    }

    public func claimHeldNotifications(of user: UserID, limit: Int) async throws -> [Notification] {
        guard limit > 0 else { return [] }
        return try await runDB { db in
            let inbox = db.collection(MongoSchema.notifications)
            var claimed: [Notification] = []
            for doc in try inbox.find(["user": .string(user), "held": true], sort: ["id": 1], limit: limit) {
                let result = try inbox.updateOne(["_id": doc["_id"] ?? .null, "user": .string(user), "held": true],
                                                 ["$set": ["held": false]])
                guard result.modified == 1 else { continue }     // another node claimed it
                var notification = try Self.notification(doc)
                notification.held = false
                claimed.append(notification)
            }
            return claimed
        }
    }

    public func setPushState(_ state: PushState, of user: UserID, ids: [Int64]) async throws {
        guard !ids.isEmpty else { return }
        _ = try await runDB { db in
            try db.collection(MongoSchema.notifications)
                .updateMany(["user": .string(user), "id": ["$in": .array(ids.map(BSON.int64))]],
                            ["$set": ["push": .string(state.rawValue)]])
        }
    }

    public func beginPush(of user: UserID, ids: [Int64], digest: Bool, leaseUntil: Int64) async throws {
        guard let leader = ids.first else { return }
        _ = try await runDB { db in
            let inbox = db.collection(MongoSchema.notifications)
            // Members first, the leader last: a claim looks only at leaders, so it never sees half a push.
            let others = ids.dropFirst().map(BSON.int64)
            if !others.isEmpty {
                _ = try inbox.updateMany(["user": .string(user), "id": ["$in": .array(Array(others))]],
                                         ["$set": ["push": .string(PushState.pending.rawValue), "pg": .int64(leader)]])
            }
            return try inbox.updateOne(["user": .string(user), "id": .int64(leader)], [
                "$set": ["push": .string(PushState.pending.rawValue), "pg": .int64(leader), "lease": .int64(leaseUntil),
                         "digest": .bool(digest)]])
        }
    }

    public func claimStalledPushes(now: Int64, leaseUntil: Int64, limit: Int) async throws -> [StalledPush] {
        guard limit > 0 else { return [] }
        return try await runDB { db in
            let inbox = db.collection(MongoSchema.notifications)
            let pending: BSON = .string(PushState.pending.rawValue)
            var claimed: [StalledPush] = []
            for leader in try inbox.find(["push": pending, "lease": ["$lt": .int64(now)]], sort: ["lease": 1], limit: limit) {
                // Compare-and-set on the lease read: of several nodes, one wins each push.
                // The user (the shard key) first: sharded, the claim goes to one shard.
                let user = try leader.string("user")
                let won = try inbox.updateOne(["user": .string(user), "_id": leader["_id"] ?? .null, "push": pending,
                                               "lease": leader["lease"] ?? .null],
                                              ["$set": ["lease": .int64(leaseUntil)]])
                guard won.modified == 1 else { continue }
                let members = try inbox.find(["user": .string(user), "pg": .int64(try leader.int64("id")), "push": pending],
                                             sort: ["id": 1])
                claimed.append(StalledPush(userId: user, digest: leader["digest"]?.bool ?? false,
                                           notifications: try members.map(Self.notification)))
            }
            return claimed
        }
    }

    public func releasePushes(of user: UserID, leaders: [Int64]) async throws {
        guard !leaders.isEmpty else { return }
        _ = try await runDB { db in
            try db.collection(MongoSchema.notifications).updateMany(
                ["user": .string(user), "id": ["$in": .array(leaders.map(BSON.int64))],
                 "push": .string(PushState.pending.rawValue), "lease": ["$exists": true]],
                ["$set": ["lease": .int64(0)]])
        }
    }

    static func notification(_ doc: BSONDocument) throws -> Notification {
        let exp = try doc.int64("exp")
        let draft = NotificationDraft(type: try doc.string("type"), title: try doc.string("title"), body: try doc.string("body"),
                                      data: try StoredJSON.value(doc["data"]),
                                      priority: try doc.enumValue("pri", NotificationPriority.self),
                                      expiresAt: exp == Int64.max ? nil : exp, key: doc.optionalString("key"))
        return Notification(userId: try doc.string("user"), id: try doc.int64("id"), draft: draft,
                            status: try doc.enumValue("st", NotificationStatus.self), held: try doc.bool("held"),
                            push: try doc.enumValue("push", PushState.self), createdAt: try doc.int64("at"))
    }
}
