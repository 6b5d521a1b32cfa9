/// Tuning of a `RedisPresenceStore`. Every value has a default fit for
/// production; tests shorten the timings.
public struct RedisPresenceSettings: Sendable, Equatable {
    /// First part of every key (`<prefix>:ps:<user>`, `<prefix>:pl:<user>`,
    /// `<prefix>:pe`): deployments sharing a Redis database need different
    /// prefixes. Default `sg`.
    public var keyPrefix: String
    /// Seconds a TCP connect to Redis may take. Default 2.
    public var connectTimeoutSeconds: Double
    /// Seconds a command may wait for Redis to answer; then the connection is
    /// declared dead, and the calls waiting on it fail with
    /// `StoreError.unavailable`. Default 2.
    public var commandTimeoutSeconds: Double
    /// Seconds without a call after which the idle connection is checked with
    /// a `PING`, so an outage is noticed (and calls fail at once) before the
    /// next call needs the connection. Default 1.
    public var pingIntervalSeconds: Double
    /// The first wait before reconnecting; doubled after each failed attempt.
    /// Default 0.1.
    public var reconnectInitialSeconds: Double
    /// The longest wait between reconnect attempts (jittered down to half).
    /// While reconnecting, calls fail at once. Default 2.
    public var reconnectMaxSeconds: Double
    /// Calls waiting for the connection; beyond it calls fail at once with
    /// `StoreError.unavailable` (Redis is too slow to keep up). Default 10 000.
    public var queueLimit: Int
    /// Sessions per `refresh` script call and users per `get` script call:
    /// bounds how long one script holds Redis. More are pipelined. Default 256.
    public var scriptBatchSize: Int
    /// Seconds a user's session hash outlives the expiry of its sessions. A
    /// safety net: sweeps normally empty the hash (which deletes it); the
    /// grace only matters when no node sweeps. Default 60.
    public var sessionKeyGraceSeconds: Double
    /// Seconds a user's `lastSeen` is kept after they went offline; later the
    /// user reads as offline without `lastSeen`. Default 30 days.
    public var lastSeenRetentionSeconds: Double

    public init(keyPrefix: String = "sg", connectTimeoutSeconds: Double = 2, commandTimeoutSeconds: Double = 2,
                pingIntervalSeconds: Double = 1, reconnectInitialSeconds: Double = 0.1, reconnectMaxSeconds: Double = 2,
                queueLimit: Int = 10_000, scriptBatchSize: Int = 256, sessionKeyGraceSeconds: Double = 60,
                lastSeenRetentionSeconds: Double = 30 * 86_400) {
        self.keyPrefix = keyPrefix
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.commandTimeoutSeconds = commandTimeoutSeconds
        self.pingIntervalSeconds = pingIntervalSeconds
        self.reconnectInitialSeconds = reconnectInitialSeconds
        self.reconnectMaxSeconds = reconnectMaxSeconds
        self.queueLimit = queueLimit
        self.scriptBatchSize = scriptBatchSize
        self.sessionKeyGraceSeconds = sessionKeyGraceSeconds
        self.lastSeenRetentionSeconds = lastSeenRetentionSeconds
    }
}

extension RedisPresenceSettings {
    /// These settings with every value in a workable range: timings at least
    /// 10 ms (zero would spin), limits and retentions at least 1.
    var clamped: RedisPresenceSettings {
        var s = self
        s.connectTimeoutSeconds = max(0.01, connectTimeoutSeconds)
        s.commandTimeoutSeconds = max(0.01, commandTimeoutSeconds)
        s.pingIntervalSeconds = max(0.01, pingIntervalSeconds)
        s.reconnectInitialSeconds = max(0.01, reconnectInitialSeconds)
        s.reconnectMaxSeconds = max(s.reconnectInitialSeconds, reconnectMaxSeconds)
        s.queueLimit = max(1, queueLimit)
        s.scriptBatchSize = max(1, scriptBatchSize)
        s.sessionKeyGraceSeconds = max(1, sessionKeyGraceSeconds)
        s.lastSeenRetentionSeconds = max(1, lastSeenRetentionSeconds)
        return s
    }
}
