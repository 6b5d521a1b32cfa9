/// Tuning of a `RedisBus`. Every value has a default fit for production;
/// tests shorten the timings.
public struct RedisBusSettings: Sendable, Equatable {
    /// Seconds between the subscriber's `PING`s (and the publisher's, when it
    /// has nothing to publish). Default 1.
    public var pingIntervalSeconds: Double
    /// Seconds without the `PONG` of an outstanding `PING` (subscriber), or
    /// without a reply to a command (publisher), after which the connection is
    /// declared dead and replaced. Default 3.
    public var deadTimeoutSeconds: Double
    /// Seconds a TCP connect to Redis may take. Default 2.
    public var connectTimeoutSeconds: Double
    /// The first wait before reconnecting; doubled after each failed attempt.
    /// Default 0.1.
    public var reconnectInitialSeconds: Double
    /// The longest wait between reconnect attempts. Each wait is jittered down
    /// to half, so many nodes do not reconnect in step. Default 2.
    public var reconnectMaxSeconds: Double
    /// Events waiting for the publisher (while Redis is slow or down). When
    /// full, the oldest ephemeral event is dropped first, then the oldest
    /// other one (counted in `RedisBus.Stats.dropped`). Default 10 000.
    public var publishQueueLimit: Int
    /// Most `PUBLISH` commands pipelined in one round trip. Default 512.
    public var publishBatchLimit: Int
    /// First part of every channel name (`<prefix>:c:<chat>`, `<prefix>:u:<user>`):
    /// pub/sub is server-wide, so deployments sharing a Redis need different
    /// prefixes. Default `sg`.
    public var channelPrefix: String

    public init(pingIntervalSeconds: Double = 1, deadTimeoutSeconds: Double = 3, connectTimeoutSeconds: Double = 2,
                reconnectInitialSeconds: Double = 0.1, reconnectMaxSeconds: Double = 2,
                publishQueueLimit: Int = 10_000, publishBatchLimit: Int = 512, channelPrefix: String = "sg") {
        self.pingIntervalSeconds = pingIntervalSeconds
        self.deadTimeoutSeconds = deadTimeoutSeconds
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.reconnectInitialSeconds = reconnectInitialSeconds
        self.reconnectMaxSeconds = reconnectMaxSeconds
        self.publishQueueLimit = publishQueueLimit
        self.publishBatchLimit = publishBatchLimit
        self.channelPrefix = channelPrefix
    }
}

extension RedisBusSettings {
    /// These settings with every value in a workable range: timings at least
    /// 10 ms (zero would spin), limits at least 1.
    var clamped: RedisBusSettings {
        var s = self
        s.pingIntervalSeconds = max(0.01, pingIntervalSeconds)
        s.deadTimeoutSeconds = max(0.01, deadTimeoutSeconds)
        s.connectTimeoutSeconds = max(0.01, connectTimeoutSeconds)
        s.reconnectInitialSeconds = max(0.01, reconnectInitialSeconds)
        s.reconnectMaxSeconds = max(s.reconnectInitialSeconds, reconnectMaxSeconds)
        s.publishQueueLimit = max(1, publishQueueLimit)
        s.publishBatchLimit = max(1, publishBatchLimit)
        return s
    }
}
