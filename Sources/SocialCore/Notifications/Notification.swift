import SocialProtocol

/// How urgent a notification is: `normal` ones wait while the user trains
/// (they come as one digest afterwards); `high` ones go through at once.
public enum NotificationPriority: String, Sendable, Codable, CaseIterable {
    case normal
    case high
}

/// Where a notification is in the user's inbox.
public enum NotificationStatus: String, Sendable, Codable, CaseIterable {
    case unread
    case read
    case dismissed
}

/// What happened with the push webhook for a notification.
public enum PushState: String, Sendable, Codable, CaseIterable {
    /// The user had no online device: the webhook call is under way (or retrying).
    case pending
    /// The webhook accepted it.
    case sent
    /// Every attempt failed (or no webhook is configured).
    case failed
    /// No webhook call was needed: a device received it live, or it expired first.
    case skipped
    /// Held while the user trains; decided when the digest goes out.
    case held
}

/// What a backend asks to send: everything but the recipient and the ids.
public struct NotificationDraft: Sendable, Equatable {
    public var type: String
    public var title: String
    public var body: String
    public var data: JSONValue?
    public var priority: NotificationPriority
    /// Milliseconds since 1970; nil: never expires.
    public var expiresAt: Int64?
    /// The caller's idempotency key: a retried create with the same key (for the same user) creates nothing new.
    public var key: String?

    public init(type: String, title: String, body: String, data: JSONValue? = nil, priority: NotificationPriority = .normal,
                expiresAt: Int64? = nil, key: String? = nil) {
        self.type = type
        self.title = title
        self.body = body
        self.data = data
        self.priority = priority
        self.expiresAt = expiresAt
        self.key = key
    }
}

/// A stored notification: one entry of one user's inbox.
public struct Notification: Sendable, Equatable {
    public var userId: UserID
    /// Increasing per user, in creation order (gaps are possible).
    public var id: Int64
    public var draft: NotificationDraft
    public var status: NotificationStatus
    /// Held while the user trained: not delivered yet, waiting for the digest.
    public var held: Bool
    public var push: PushState
    public var createdAt: Int64

    public init(userId: UserID, id: Int64, draft: NotificationDraft, status: NotificationStatus = .unread,
                held: Bool = false, push: PushState, createdAt: Int64) {
        self.userId = userId
        self.id = id
        self.draft = draft
        self.status = status
        self.held = held
        self.push = push
        self.createdAt = createdAt
    }

    /// Whether it expired at `now`.
    public func isExpired(at now: Int64) -> Bool {
        draft.expiresAt.map { $0 <= now } ?? false
    }

    public var wire: WireNotification {
        WireNotification(id: id, type: draft.type, title: draft.title, body: draft.body, data: draft.data,
                         priority: draft.priority.rawValue, status: status.rawValue, createdAt: createdAt,
                         expiresAt: draft.expiresAt)
    }
}
