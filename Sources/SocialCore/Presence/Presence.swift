/// What a user is doing, as others see it.
public enum PresenceState: String, Sendable, Codable, CaseIterable {
    case online
    case away
    /// In a workout; `activity` may say which (run, ride, gym...).
    case training
    case offline
}

/// One session's presence, as its device reported it.
public struct SessionPresence: Sendable, Equatable {
    public var sessionId: String
    public var deviceId: String
    /// `online`, `away` or `training` (a live session is never `offline`).
    public var state: PresenceState
    public var activity: String?
    /// Milliseconds since 1970 when the device last set its state.
    public var since: Int64

    public init(sessionId: String, deviceId: String, state: PresenceState, activity: String?, since: Int64) {
        self.sessionId = sessionId
        self.deviceId = deviceId
        self.state = state
        self.activity = activity
        self.since = since
    }
}

/// A user's presence over all devices and nodes.
public struct Presence: Sendable, Equatable {
    public var userId: UserID
    public var state: PresenceState
    public var activity: String?
    /// When the user was last connected (set while offline), milliseconds since 1970.
    public var lastSeen: Int64?

    public init(userId: UserID, state: PresenceState, activity: String? = nil, lastSeen: Int64? = nil) {
        self.userId = userId
        self.state = state
        self.activity = activity
        self.lastSeen = lastSeen
    }

    /// The user's presence from their live sessions: `training` if any device
    /// trains (the latest such device's activity), else `online` if any is
    /// online, else `away`; `offline` (with `lastSeen`) when none is live.
    public static func aggregate(_ user: UserID, _ sessions: [SessionPresence], lastSeen: Int64?) -> Presence {
        if let training = sessions.filter({ $0.state == .training }).max(by: { $0.since < $1.since }) {
            return Presence(userId: user, state: .training, activity: training.activity)
        }
        if sessions.contains(where: { $0.state == .online }) { return Presence(userId: user, state: .online) }
        if !sessions.isEmpty { return Presence(userId: user, state: .away) }
        return Presence(userId: user, state: .offline, lastSeen: lastSeen)
    }
}

/// A user's presence before and after a change; publish only when they differ.
public struct PresenceChange: Sendable, Equatable {
    public var before: Presence
    public var after: Presence
    public var changed: Bool { before != after }

    public init(before: Presence, after: Presence) {
        self.before = before
        self.after = after
    }
}
