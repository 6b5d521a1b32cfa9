import SocialProtocol

/// One call of the push webhook: a user's notification, or the digest of
/// those held while they trained. Its JSON is the webhook's request body.
public struct PushRequest: Codable, Sendable, Equatable {
    public var userId: UserID
    /// True for a training digest (several notifications at once).
    public var digest: Bool
    public var notifications: [WireNotification]
    /// The badge with these counted.
    public var unread: Int

    public init(userId: UserID, digest: Bool, notifications: [WireNotification], unread: Int) {
        self.userId = userId
        self.digest = digest
        self.notifications = notifications
        self.unread = unread
    }

    enum CodingKeys: String, CodingKey { case userId = "user_id", digest, notifications, unread }

    /// The `Idempotency-Key` of the push: `<user>:<first id>:<last id>`, the
    /// same on every attempt and when a push is sent again after a restart.
    public var idempotencyKey: String {
        "\(userId):\(notifications.first?.id ?? 0):\(notifications.last?.id ?? 0)"
    }
}

/// Sends pushes to users with no online device (the company's push service,
/// which speaks to APNs and FCM). The HTTP webhook lives in SocialHTTP; the
/// core only calls this.
public protocol PushSender: Sendable {
    /// Delivers `request`, with the sender's own retries and backoff. True
    /// when the push service accepted it, false when every attempt failed or
    /// the calling task was cancelled (then it stops at once: no further
    /// attempt, no wait). Must not block the calling task's thread.
    func send(_ request: PushRequest) async -> Bool
}
