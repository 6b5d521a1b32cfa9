/// Tuning of a `RedisStreamIngest`. Every value has a default fit for
/// production; tests shorten the timings.
public struct StreamIngestSettings: Sendable, Equatable {
    /// The stream backends add entries to (`XADD <stream> * notification <json>`).
    public var stream: String
    /// The consumer group every gateway node reads through: each entry goes to one node.
    public var group: String
    /// This node's consumer name in the group. Keep it stable across restarts
    /// of the same node: after a restart the node first takes back the
    /// entries it had read but not acknowledged.
    public var consumer: String
    /// Most entries read per `XREADGROUP`. Default 100.
    public var batch: Int
    /// Milliseconds one `XREADGROUP` blocks waiting for new entries (and the
    /// longest a stop waits for the thread). Default 1000.
    public var blockMs: Int
    /// Milliseconds an entry may stay read-but-unacknowledged by another
    /// consumer (a node that died) before this one claims it. Default 30 000.
    public var claimIdleMs: Int
    /// Seconds a TCP connect to Redis may take. Default 2.
    public var connectTimeoutSeconds: Double
    /// The first wait after a failure (connect, or a store that refused an
    /// entry for now); doubled up to `retryMaxSeconds`. Default 0.1.
    public var retryInitialSeconds: Double
    /// The longest wait between retries. Default 5.
    public var retryMaxSeconds: Double

    public init(stream: String = "social:notifications", group: String = "social-gateway", consumer: String,
                batch: Int = 100, blockMs: Int = 1000, claimIdleMs: Int = 30_000, connectTimeoutSeconds: Double = 2,
                retryInitialSeconds: Double = 0.1, retryMaxSeconds: Double = 5) {
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self.batch = batch
        self.blockMs = blockMs
        self.claimIdleMs = claimIdleMs
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.retryInitialSeconds = retryInitialSeconds
        self.retryMaxSeconds = retryMaxSeconds
    }

    /// The stream where refused entries go, with the reason: `<stream>:rejected`.
    public var rejectedStream: String { stream + ":rejected" }

    /// These settings in a workable range: at least one entry per read, timings at least 10 ms.
    var clamped: StreamIngestSettings {
        var s = self
        s.batch = max(1, batch)
        s.blockMs = max(10, blockMs)
        s.claimIdleMs = max(10, claimIdleMs)
        s.connectTimeoutSeconds = max(0.01, connectTimeoutSeconds)
        s.retryInitialSeconds = max(0.01, retryInitialSeconds)
        s.retryMaxSeconds = max(s.retryInitialSeconds, retryMaxSeconds)
        return s
    }
}

/// One stream entry: its id (`1700000000000-0`) and its field-value pairs.
public struct StreamEntry: Sendable, Equatable {
    public var id: String
    public var fields: [String: [UInt8]]

    public init(id: String, fields: [String: [UInt8]]) {
        self.id = id
        self.fields = fields
    }
}

/// What the application did with one entry.
public enum IngestVerdict: Sendable, Equatable {
    /// Stored (or already stored: a retried entry): acknowledge it.
    case stored
    /// It can never be stored (bad payload): acknowledge it and copy it,
    /// with the reason, to the rejected stream.
    case rejected(String)
    /// Not now (the store is unavailable): leave it pending and retry it after a backoff.
    case retryLater(String)
}
