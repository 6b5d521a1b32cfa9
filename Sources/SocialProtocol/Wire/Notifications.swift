// Args and results of the `notifications.*` ops, and the notification events.

/// A notification as clients see it: one entry of the user's inbox.
public struct WireNotification: Codable, Sendable, Equatable {
    /// The user's notification id: increasing in creation order, per user.
    public var id: Int64
    /// What kind (`kudos`, `challenge_invite`, ...), chosen by the backend that sent it.
    public var type: String
    public var title: String
    public var body: String
    /// The backend's data (a deep link, ids), passed through as is.
    public var data: JSONValue?
    /// `normal` or `high`.
    public var priority: String
    /// `unread`, `read` or `dismissed`.
    public var status: String
    /// When it was created (ms since 1970).
    public var createdAt: Int64
    /// After this (ms since 1970) it is no longer listed, synced nor counted.
    public var expiresAt: Int64?

    public init(id: Int64, type: String, title: String, body: String, data: JSONValue? = nil, priority: String,
                status: String, createdAt: Int64, expiresAt: Int64? = nil) {
        self.id = id
        self.type = type
        self.title = title
        self.body = body
        self.data = data
        self.priority = priority
        self.status = status
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    enum CodingKeys: String, CodingKey {
        case id, type, title, body, data, priority, status, createdAt = "created_at", expiresAt = "expires_at"
    }
}

/// `notifications.list`: a page of the caller's inbox, newest first.
public struct NotificationsListArgs: Codable, Sendable, Equatable {
    /// Only notifications with a smaller id (the last id of the previous page); absent: from the newest.
    public var before: Int64?
    /// Only unread ones.
    public var unreadOnly: Bool?
    /// Default 50, at most 200.
    public var limit: Int?

    public init(before: Int64? = nil, unreadOnly: Bool? = nil, limit: Int? = nil) {
        self.before = before
        self.unreadOnly = unreadOnly
        self.limit = limit
    }

    enum CodingKeys: String, CodingKey { case before, unreadOnly = "unread_only", limit }
}

public struct NotificationsListResult: Codable, Sendable, Equatable {
    public var notifications: [WireNotification]
    /// Older notifications wait: call again with `before` the last id.
    public var more: Bool
    /// The badge: how many notifications are unread.
    public var unread: Int

    public init(notifications: [WireNotification], more: Bool, unread: Int) {
        self.notifications = notifications
        self.more = more
        self.unread = unread
    }
}

/// `notifications.ack`: marks notifications read or dismissed, up to an id, or a list of ids.
public struct NotificationsAckArgs: Codable, Sendable, Equatable {
    /// `read` or `dismissed`.
    public var status: String
    /// Every notification with an id up to this one (inclusive).
    public var upTo: Int64?
    /// These notifications (at most 200).
    public var ids: [Int64]?

    public init(status: String, upTo: Int64? = nil, ids: [Int64]? = nil) {
        self.status = status
        self.upTo = upTo
        self.ids = ids
    }

    enum CodingKeys: String, CodingKey { case status, upTo = "up_to", ids }
}

public struct NotificationsAckResult: Codable, Sendable, Equatable {
    /// How many notifications changed status.
    public var changed: Int
    /// The badge after the change.
    public var unread: Int

    public init(changed: Int, unread: Int) {
        self.changed = changed
        self.unread = unread
    }
}

/// `notification`: a new notification for the user (to each of their devices, once).
public struct NotificationEvent: Codable, Sendable, Equatable {
    public var notification: WireNotification
    /// The badge with this notification counted.
    public var unread: Int

    public init(notification: WireNotification, unread: Int) {
        self.notification = notification
        self.unread = unread
    }
}

/// `notifications.digest`: the normal-priority notifications held while the user trained, at once.
public struct NotificationsDigestEvent: Codable, Sendable, Equatable {
    /// Oldest first.
    public var notifications: [WireNotification]
    public var unread: Int

    public init(notifications: [WireNotification], unread: Int) {
        self.notifications = notifications
        self.unread = unread
    }
}

/// `notifications.badge`: the user's unread count changed (another device acknowledged some).
public struct NotificationsBadgeEvent: Codable, Sendable, Equatable {
    public var unread: Int
    public init(unread: Int) { self.unread = unread }
}

/// The notifications part of `sync`.
public struct SyncNotifications: Codable, Sendable, Equatable {
    /// Notifications created after the client's position, oldest first (expired ones left out).
    public var changes: [WireNotification]
    /// The client's new position: the highest id it has seen.
    public var position: Int64
    /// More wait: call `sync` again with the new position.
    public var more: Bool
    public var unread: Int

    public init(changes: [WireNotification], position: Int64, more: Bool, unread: Int) {
        self.changes = changes
        self.position = position
        self.more = more
        self.unread = unread
    }
}
