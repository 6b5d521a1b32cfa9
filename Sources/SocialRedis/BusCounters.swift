import Foundation
import SocialCore

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
}

/// The counters behind `RedisBusStats`, shared by the publisher and the
/// subscriber threads and read from any thread.
///
/// `@unchecked Sendable`: `stats` is only read and written under `lock`;
/// `metrics` is `Sendable`.
final class BusCounters: @unchecked Sendable {
    private let lock = NSLock()
    private var stats = RedisBusStats()
    /// The series at `/metrics` (made with the bus, after the metrics system's bootstrap).
    let metrics = BusMetrics()

    /// Applies `change` under the lock. Any thread.
    func update(_ change: (inout RedisBusStats) -> Void) {
        lock.lock()
        change(&stats)
        lock.unlock()
    }

    /// A copy of the counters. Any thread.
    var snapshot: RedisBusStats {
        lock.lock()
        defer { lock.unlock() }
        return stats
    }
}

/// Microseconds since 1970 (the bus wire's `ts`). Any thread.
func wallMicroseconds() -> Int64 {
    Int64(Date().timeIntervalSince1970 * 1_000_000)
}
