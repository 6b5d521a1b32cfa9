/// `ping`: no args. Replies with the server's clock.
public struct PingArgs: Codable, Sendable, Equatable {
    public init() {}
}

public struct PingResult: Codable, Sendable, Equatable {
    /// Milliseconds since 1970 on the server.
    public var serverTime: Int64
    public init(serverTime: Int64) { self.serverTime = serverTime }
    enum CodingKeys: String, CodingKey { case serverTime = "server_time" }
}

/// `hello`: the first push on every connection, before any reply.
public struct HelloEvent: Codable, Sendable, Equatable {
    public var version: String
    public var sessionId: String
    public var userId: String
    public var deviceId: String
    /// The limits this connection is held to, so clients need not guess.
    public var maxMessageBytes: Int
    public var pingIntervalMs: Int
    public var idleTimeoutMs: Int

    public init(version: String, sessionId: String, userId: String, deviceId: String,
                maxMessageBytes: Int, pingIntervalMs: Int, idleTimeoutMs: Int) {
        self.version = version
        self.sessionId = sessionId
        self.userId = userId
        self.deviceId = deviceId
        self.maxMessageBytes = maxMessageBytes
        self.pingIntervalMs = pingIntervalMs
        self.idleTimeoutMs = idleTimeoutMs
    }

    enum CodingKeys: String, CodingKey {
        case version
        case sessionId = "session_id"
        case userId = "user_id"
        case deviceId = "device_id"
        case maxMessageBytes = "max_message_bytes"
        case pingIntervalMs = "ping_interval_ms"
        case idleTimeoutMs = "idle_timeout_ms"
    }
}
