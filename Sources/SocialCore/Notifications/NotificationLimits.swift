import SocialProtocol

/// The limits notifications are held to. Each is a gateway setting (see the README).
public struct NotificationLimits: Sendable {
    /// Users one create may address (`--notify-max-users`).
    public var maxUsers = 1000
    public var typeBytes: ClosedRange<Int> = 1...64
    public var titleBytes: ClosedRange<Int> = 1...200
    public var maxBodyBytes = 2000
    /// The encoded `data` object.
    public var maxDataBytes = 4096
    public var keyBytes: ClosedRange<Int> = 1...128
    public var defaultListLimit = 50
    public var maxListLimit = 200
    /// Ids one `notifications.ack` may list.
    public var maxAckIds = 200
    /// Notifications one `sync` returns.
    public var syncLimit = 200
    /// Held notifications one digest carries; the rest go in the next digest.
    public var maxDigest = 500
    /// Users of one create done at once.
    public var createConcurrency = 32
    /// Webhook calls in flight at once (`--push-max-inflight`); beyond it a push fails at once.
    public var maxPushInflight = 256
    /// How long a node owns a push it started: longer than every attempt with
    /// its backoff (the gateway derives it from the `--push-*` settings). A
    /// push still `pending` after it (its node stopped or died) is sent again
    /// by whichever node looks first.
    public var pushLeaseMs: Int64 = 60_000
    /// Pushes looked for, in one pass of `resumeStalledPushes`.
    public var resumeBatch = 100

    public init() {}
}
