import Foundation
import SocialCore
import Synchronization

/// What a `RedisBus` has done since it started (for logs, tests and metrics).
public struct RedisBusStats: Sendable, Equatable {
    /// Events Redis accepted from this node's publisher.
    public var published = 0
    /// Events dropped before reaching Redis: the publish queue was full, or an
    /// ephemeral event was in flight when the connection broke.
    public var dropped = 0
    /// Events Redis refused with an error reply (not retried).
    public var rejected = 0
    /// Events received from Redis and handed to the sink.
    public var delivered = 0
    /// Messages on a subscribed channel that were not in the bus format (ignored).
    public var malformed = 0
    /// `busInterrupted` calls: outages of the subscription, each reported once.
    public var interruptions = 0
    /// Times the publisher or the subscriber connection was lost.
    public var connectionsLost = 0
    /// Losses this node's publisher announced on the control channel (durable
    /// events dropped from its full queue or refused by Redis).
    public var lossesAnnounced = 0
    /// Loss announcements this node's subscriber heard (from any node, itself included).
    public var lossesHeard = 0

    public init() {}

    /// The sum of `self` and `other`, field by field (a sharded bus's total).
    public static func + (lhs: RedisBusStats, rhs: RedisBusStats) -> RedisBusStats {
        var sum = lhs
        sum.published += rhs.published
        sum.dropped += rhs.dropped
        sum.rejected += rhs.rejected
        sum.delivered += rhs.delivered
        sum.malformed += rhs.malformed
        sum.interruptions += rhs.interruptions
        sum.connectionsLost += rhs.connectionsLost
        sum.lossesAnnounced += rhs.lossesAnnounced
        sum.lossesHeard += rhs.lossesHeard
        return sum
    }
}

/// The counters behind `RedisBusStats`, shared by the publisher and the
/// subscriber threads and read from any thread.
final class BusCounters: Sendable {
    private struct State {
        var stats = RedisBusStats()
        var publisherUp = false
        var subscriberUp = false
    }

    private let state = Mutex(State())
    /// The series at `/metrics` (made with the bus, after the metrics system's bootstrap).
    let metrics: BusMetrics

    /// - Parameters:
    ///   - shard: the shard's label for every series, when the bus has several shards.
    ///   - redis: the shard's address, for `social_bus_shard_up`.
    init(shard: String? = nil, redis: String = "") {
        metrics = BusMetrics(shard: shard, redis: redis)
        metrics.shardUp(false)
    }

    /// The publisher's or the subscriber's connection went up or down:
    /// `social_bus_shard_up` follows both. Any thread.
    func connection(_ connection: BusMetrics.Connection, isUp: Bool) {
        let both = state.withLock { state in
            if connection == .publisher { state.publisherUp = isUp } else { state.subscriberUp = isUp }
            return state.publisherUp && state.subscriberUp
        }
        metrics.shardUp(both)
    }

    /// Applies `change` under the lock. Any thread.
    func update(_ change: (inout RedisBusStats) -> Void) {
        state.withLock { change(&$0.stats) }
    }

    /// A copy of the counters. Any thread.
    var snapshot: RedisBusStats { state.withLock { $0.stats } }
}

/// Microseconds since 1970 (the bus wire's `ts`). Any thread.
func wallMicroseconds() -> Int64 {
    Int64(Date().timeIntervalSince1970 * 1_000_000)
}
