import Metrics

/// The bus's series at `/metrics`, recorded by a bus adapter (the Redis bus
/// reports through this, so the adapter needs no metrics library of its own).
/// Make one after `MetricsSystem.bootstrap`: metrics made before it go nowhere.
///
/// - `social_bus_publish_duration_seconds`: one pipelined batch of `PUBLISH`
///   commands, from writing it to the last reply.
/// - `social_bus_lag_seconds`: from the publishing node writing an event to
///   this node reading it (across nodes, their clocks' difference adds in).
/// - `social_bus_reconnects_total{connection}`: a lost `publisher` or
///   `subscriber` connection reconnected.
/// - `social_bus_dropped_total`: events dropped before reaching the bus (its
///   publish queue was full, or an ephemeral event was in flight when the
///   connection broke).
/// - `social_bus_shard_up{shard,redis}`: 1 while a shard's connections are
///   up (its subscriptions active), 0 while it is down.
///
/// With several shards every series carries a `shard` label (its index in
/// `--bus`); with one, the series are as they were before shards.
///
/// Any thread.
public struct BusMetrics: Sendable {
    public enum Connection: String, Sendable {
        case publisher
        case subscriber
    }

    private let publishDuration: Timer
    private let lag: Timer
    private let publisherReconnects: Counter
    private let subscriberReconnects: Counter
    private let dropped: Counter
    private let up: Gauge

    /// - Parameters:
    ///   - shard: the shard's label, when the bus has several.
    ///   - redis: the shard's address, for `social_bus_shard_up`.
    public init(shard: String? = nil, redis: String = "") {
        let label: [(String, String)] = shard.map { [("shard", $0)] } ?? []
        publishDuration = Timer(label: "social_bus_publish_duration_seconds", dimensions: label)
        lag = Timer(label: "social_bus_lag_seconds", dimensions: label)
        publisherReconnects = Counter(label: "social_bus_reconnects_total", dimensions: [("connection", "publisher")] + label)
        subscriberReconnects = Counter(label: "social_bus_reconnects_total", dimensions: [("connection", "subscriber")] + label)
        dropped = Counter(label: "social_bus_dropped_total", dimensions: label)
        up = Gauge(label: "social_bus_shard_up", dimensions: [("shard", shard ?? "0"), ("redis", redis)])
    }

    /// The shard's connections are up (true) or one of them is down.
    public func shardUp(_ value: Bool) { up.record(value ? 1 : 0) }

    /// A batch of publishes was acknowledged `nanoseconds` after it was written.
    public func published(nanoseconds: Int64) { publishDuration.recordNanoseconds(max(0, nanoseconds)) }

    /// An event arrived `microseconds` after its publisher wrote it (negative
    /// values, from clock skew, count as 0).
    public func received(lagMicroseconds: Int64) { lag.recordNanoseconds(max(0, lagMicroseconds) &* 1000) }

    /// A connection that was lost is up again.
    public func reconnected(_ connection: Connection) {
        (connection == .publisher ? publisherReconnects : subscriberReconnects).increment()
    }

    /// `count` events were dropped before reaching the bus.
    public func dropped(_ count: Int) { if count > 0 { dropped.increment(by: count) } }
}
