// Args and results of the `presence.*` ops, and the `presence` event.

/// A user's presence over all their devices and gateway nodes.
public struct WirePresence: Codable, Sendable, Equatable {
    public var userId: String
    /// `online`, `away`, `training` or `offline`.
    public var state: String
    /// With `training`: what kind (e.g. `run`, `ride`, `gym`).
    public var activity: String?
    /// With `offline`, when known: when the user was last connected (ms since 1970).
    public var lastSeen: Int64?

    public init(userId: String, state: String, activity: String? = nil, lastSeen: Int64? = nil) {
        self.userId = userId
        self.state = state
        self.activity = activity
        self.lastSeen = lastSeen
    }

    enum CodingKeys: String, CodingKey { case userId = "user_id", state, activity, lastSeen = "last_seen" }
}

/// `presence.set`: this connection's state.
public struct PresenceSetArgs: Codable, Sendable, Equatable {
    /// `online`, `away` or `training`.
    public var state: String
    /// With `training`: `[a-z0-9_-]{1,32}`.
    public var activity: String?
    public init(state: String, activity: String? = nil) { self.state = state; self.activity = activity }
}

/// Args of `presence.subscribe`, `presence.unsubscribe` and `presence.query`.
public struct PresenceUsersArgs: Codable, Sendable, Equatable {
    /// At most 100 per call.
    public var userIds: [String]
    public init(userIds: [String]) { self.userIds = userIds }
    enum CodingKeys: String, CodingKey { case userIds = "user_ids" }
}

/// Result of `presence.set`: the caller's presence over all devices now.
public struct PresenceSelfResult: Codable, Sendable, Equatable {
    public var presence: WirePresence
    public init(presence: WirePresence) { self.presence = presence }
}

/// Result of `presence.subscribe` and `presence.query`.
public struct PresenceListResult: Codable, Sendable, Equatable {
    /// The presence of each user the caller may see.
    public var presence: [WirePresence]
    /// Users whose presence the caller may not see (they share no chat).
    public var denied: [String]
    public init(presence: [WirePresence], denied: [String]) { self.presence = presence; self.denied = denied }
}

/// `presence`: a watched user's presence changed.
public struct PresenceEvent: Codable, Sendable, Equatable {
    public var presence: WirePresence
    public init(presence: WirePresence) { self.presence = presence }
}

/// `presence.revoked`: watches of this connection that ended because the
/// connection's user may no longer see those users (they share no chat any
/// more). No `presence` event comes for them after this one.
public struct PresenceRevokedEvent: Codable, Sendable, Equatable {
    public var userIds: [String]
    /// `no_shared_chat`, or `unverified` when the gateway could not check
    /// (its store did not answer) and ended the watches to be safe: calling
    /// `presence.subscribe` again checks anew.
    public var reason: String
    public init(userIds: [String], reason: String) {
        self.userIds = userIds
        self.reason = reason
    }
    enum CodingKeys: String, CodingKey { case userIds = "user_ids", reason }
}
