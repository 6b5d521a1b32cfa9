/// The transport's settings. The executable maps each to a flag and an
/// environment variable; the defaults here are the documented ones.
public struct ServerSettings: Sendable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// PEM files for wss; both or neither.
    public var tlsCertPath: String?
    public var tlsKeyPath: String?
    /// Largest client message, counted after permessage-deflate inflation.
    public var maxMessageBytes: Int = 65_536
    /// Exact Origin values browsers may connect from; empty allows any.
    public var allowedOrigins: [String] = []
    /// Seconds between server pings.
    public var pingIntervalSeconds: Int = 30
    /// Seconds without any frame or pong before a connection is closed with 4000.
    public var idleTimeoutSeconds: Int = 75
    /// Per-connection send queue bounds for events (replies are bounded by `maxInflight`).
    public var sendQueueMaxFrames: Int = 1024
    public var sendQueueMaxBytes: Int = 4 << 20
    /// Largest frame the writer fills with several queued messages separated
    /// by `\n` (capped by `maxMessageBytes`); a single larger message goes
    /// alone. 0 sends one message per frame.
    public var batchMaxBytes: Int = 32_768
    /// Commands of one connection queued or running before `overloaded` replies.
    public var maxInflight: Int = 64
    /// Seconds a drain waits for in-flight commands and queued frames before closing anyway.
    public var drainTimeoutSeconds: Int = 10
    /// Most sessions a drain has closing at once; the others wait for room, at
    /// most `GatewayServer.drainHoldMaxMs` (each close walks lws's list of the
    /// others' timeouts).
    public var drainMaxClosing: Int = 1024
    /// Seconds lws allows for a TCP/TLS/HTTP handshake to complete.
    public var handshakeTimeoutSeconds: Int = 10
    /// Seconds past its token's `exp` a session may live (the JWT leeway);
    /// then it is closed with 1008.
    public var tokenLeewaySeconds: Int = 60
    /// Seconds between presence heartbeats of this node's sessions (well under the presence TTL).
    public var presenceHeartbeatSeconds: Int = 10
    /// Presence watches (`presence.subscribe`) one session may hold.
    public var maxPresenceWatches: Int = 1000
    /// Milliseconds a chat event waits for a missing earlier one before it is
    /// delivered anyway (0 delivers in arrival order).
    public var reorderWindowMs: Int = 250
    /// Most WebSocket sessions this process holds; lowered at start to fit
    /// the open-file limit (see `GatewayServer.descriptorBudget`).
    public var maxConnections: Int = 19_500
    /// Most accepted sockets still in their HTTP request or WebSocket upgrade;
    /// beyond it new sockets are closed at once (a slow or half-open
    /// handshake flood cannot use up the descriptors).
    public var maxPendingHandshakes: Int = 1024
    /// Largest backend API request body (`/api/v1/...`); larger gets 413.
    public var maxAPIBodyBytes: Int = 65_536
    /// Milliseconds a backend API handler may take before the caller gets 504.
    public var apiTimeoutMs: Int = 10_000
    /// Milliseconds a backend's readiness probe may take before `/readyz`
    /// counts the backend as not ready (a database that hangs instead of refusing).
    public var readinessTimeoutMs: Int = 2_000

    public init() {}
}
