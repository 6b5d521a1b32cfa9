import SocialCore
import SocialProtocol

/// Notifications, in the same database as the chats (table `notifications`,
/// schema v3; push leases v4). Writes run on the writer thread, one at a time, so taking a
/// user's next id as `max + 1` and checking the idempotency key before the
/// insert cannot race; reads run on a reader thread.
extension SQLiteChatStore: NotificationStore {
    static let notificationColumns = """
        user_id, id, type, title, body, data, priority, expires_at, idem_key, status, held, push, created_at
        """

    public func createNotification(_ draft: NotificationDraft, for user: UserID, held: Bool, push: PushState,
                                   pushLeaseUntil: Int64?, now: Int64) async throws -> (notification: Notification, created: Bool) {
        let lease = push == .pending ? pushLeaseUntil : nil
        let data = try SQLiteRows.json(draft.data)
        return try await writer.submit { db in
            if let key = draft.key, let existing = try db.with(
                "SELECT \(Self.notificationColumns) FROM notifications WHERE user_id = ? AND idem_key = ?",
                { try $0.bind(user, key).first(Self.notification) }) {
                return (existing, false)
            }
            let id = try db.with("SELECT coalesce(max(id), 0) + 1 FROM notifications WHERE user_id = ?") {
                try $0.bind(user).first { $0.int64(0) }
            } ?? 1
            let made = Notification(userId: user, id: id, draft: draft, held: held, push: push, createdAt: now)
            try db.with("INSERT INTO notifications (\(Self.notificationColumns), push_group, push_lease) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)") {
                try $0.bind(user, id, draft.type, draft.title, draft.body, data, draft.priority.rawValue, draft.expiresAt,
                            draft.key, made.status.rawValue, held, push.rawValue, now, lease.map { _ in id }, lease).run()
            }
            return (made, true)
        }
    }

    public func notifications(of user: UserID, before: Int64?, unreadOnly: Bool, limit: Int,
                              now: Int64) async throws -> [Notification] {
        try await readers.read { db in
            try db.with("""
                SELECT \(Self.notificationColumns) FROM notifications
                WHERE user_id = ? AND id < ? AND (? = 0 OR status = 'unread') AND (expires_at IS NULL OR expires_at > ?)
                ORDER BY id DESC LIMIT ?
                """) {
                try $0.bind(user, before ?? Int64.max, unreadOnly, now, max(0, limit)).rows(Self.notification)
            }
        }
    }

    public func notifications(of user: UserID, after: Int64, limit: Int, now: Int64) async throws -> [Notification] {
        try await readers.read { db in
            try db.with("""
                SELECT \(Self.notificationColumns) FROM notifications
                WHERE user_id = ? AND id > ? AND (expires_at IS NULL OR expires_at > ?)
                ORDER BY id LIMIT ?
                """) {
                try $0.bind(user, after, now, max(0, limit)).rows(Self.notification)
            }
        }
    }

    public func ackNotifications(of user: UserID, upTo: Int64?, ids: [Int64], status: NotificationStatus,
                                 now: Int64) async throws -> Int {
        let list = try SQLiteRows.json(Optional(ids)) ?? "[]"
        return try await writer.submit { db in
            try db.with("""
                UPDATE notifications SET status = ?
                WHERE user_id = ? AND status <> 'dismissed' AND status <> ?
                  AND (id <= ? OR id IN (SELECT value FROM json_each(?)))
                RETURNING id
                """) {
                try $0.bind(status.rawValue, user, status.rawValue, upTo ?? 0, list).rows { $0.int64(0) }.count
            }
        }
    }

    public func unreadNotifications(of user: UserID, now: Int64) async throws -> Int {
        try await readers.read { db in
            try db.with("""
                SELECT count(*) FROM notifications
                WHERE user_id = ? AND status = 'unread' AND (expires_at IS NULL OR expires_at > ?)
                """) {
                Int(try $0.bind(user, now).first { $0.int64(0) } ?? 0)
            }
        }
    }

    public func claimHeldNotifications(of user: UserID, limit: Int) async throws -> [Notification] {
        try await writer.submit { db in
            try db.with("""
                UPDATE notifications SET held = 0
                WHERE user_id = ? AND id IN (SELECT id FROM notifications WHERE user_id = ? AND held = 1 ORDER BY id LIMIT ?)
                RETURNING \(Self.notificationColumns)
                """) {
                try $0.bind(user, user, max(0, limit)).rows(Self.notification)
            }.sorted { $0.id < $1.id }
        }
    }

    public func setPushState(_ state: PushState, of user: UserID, ids: [Int64]) async throws {
        let list = try SQLiteRows.json(Optional(ids)) ?? "[]"
        try await writer.submit { db in
            try db.with("UPDATE notifications SET push = ? WHERE user_id = ? AND id IN (SELECT value FROM json_each(?))") {
                try $0.bind(state.rawValue, user, list).run()
            }
        }
    }

    public func beginPush(of user: UserID, ids: [Int64], digest: Bool, leaseUntil: Int64) async throws {
        guard let leader = ids.first else { return }
        let list = try SQLiteRows.json(Optional(ids)) ?? "[]"
        try await writer.submit { db in
            try db.with("""
                UPDATE notifications SET push = 'pending', push_group = ?,
                    push_lease = CASE WHEN id = ? THEN ? ELSE NULL END, push_digest = CASE WHEN id = ? THEN ? ELSE 0 END
                WHERE user_id = ? AND id IN (SELECT value FROM json_each(?))
                """) {
                try $0.bind(leader, leader, leaseUntil, leader, digest, user, list).run()
            }
        }
    }

    public func claimStalledPushes(now: Int64, leaseUntil: Int64, limit: Int) async throws -> [StalledPush] {
        try await writer.submit { db in
            // The writer runs one call at a time: what it reads here, no other claim takes.
            let leaders = try db.with("""
                SELECT user_id, id, push_digest FROM notifications
                WHERE push = 'pending' AND push_lease IS NOT NULL AND push_lease < ?
                ORDER BY push_lease, user_id, id LIMIT ?
                """) {
                try $0.bind(now, max(0, limit)).rows { (user: $0.string(0), id: $0.int64(1), digest: $0.bool(2)) }
            }
            var claimed: [StalledPush] = []
            for leader in leaders {
                try db.with("UPDATE notifications SET push_lease = ? WHERE user_id = ? AND id = ?") {
                    try $0.bind(leaseUntil, leader.user, leader.id).run()
                }
                let members = try db.with("""
                    SELECT \(Self.notificationColumns) FROM notifications
                    WHERE user_id = ? AND push_group = ? AND push = 'pending' ORDER BY id
                    """) {
                    try $0.bind(leader.user, leader.id).rows(Self.notification)
                }
                claimed.append(StalledPush(userId: leader.user, digest: leader.digest, notifications: members))
            }
            return claimed
        }
    }

    public func releasePushes(of user: UserID, leaders: [Int64]) async throws {
        let list = try SQLiteRows.json(Optional(leaders)) ?? "[]"
        try await writer.submit { db in
            try db.with("""
                UPDATE notifications SET push_lease = 0
                WHERE user_id = ? AND push = 'pending' AND push_lease IS NOT NULL AND id IN (SELECT value FROM json_each(?))
                """) {
                try $0.bind(user, list).run()
            }
        }
    }

    static func notification(_ row: SQLiteStatement) throws -> Notification {
        func value<T: RawRepresentable>(_ type: T.Type, _ column: Int32) throws -> T where T.RawValue == String {
            guard let value = T(rawValue: row.string(column)) else {
                throw StoreError.unavailable("sqlite: unknown \(T.self) '\(row.string(column))'")
            }
            return value
        }
        let draft = NotificationDraft(type: row.string(2), title: row.string(3), body: row.string(4),
                                      data: try SQLiteRows.json(JSONValue.self, row.optionalString(5)),
                                      priority: try value(NotificationPriority.self, 6), expiresAt: row.optionalInt64(7),
                                      key: row.optionalString(8))
        return Notification(userId: row.string(0), id: row.int64(1), draft: draft,
                            status: try value(NotificationStatus.self, 9), held: row.bool(10),
                            push: try value(PushState.self, 11), createdAt: row.int64(12))
    }
}
