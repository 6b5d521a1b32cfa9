import Foundation
import Metrics

/// The transport's counters, reported through swift-metrics (exported at
/// `/metrics` as `social_<name>_total`) and readable here for tests and logs.
/// Any thread may add; the lock guards `values`.
public final class ServerStats: @unchecked Sendable {
    public enum Counter: String, CaseIterable, Sendable {
        case connectionsOpened = "connections_opened"
        case connectionsClosed = "connections_closed"
        case handshakesRejected = "handshakes_rejected"
        case commandsReceived = "commands_received"
        case framesSent = "frames_sent"
        case eventsQueued = "events_queued"
        case ephemeralDropped = "ephemeral_dropped"
        case slowConsumerCloses = "slow_consumer_closes"
        case oversizeCloses = "oversize_closes"
        case idleCloses = "idle_closes"
        case tokenExpiredCloses = "token_expired_closes"
        case apiRequests = "api_requests"
        case forcedDisconnects = "forced_disconnects"
    }

    private let lock = NSLock()
    private var values: [Counter: Int] = [:]
    private let counters: [Counter: Metrics.Counter]
    private let connections = Gauge(label: "social_connections", dimensions: [("state", "open")])

    public init() {
        var counters: [Counter: Metrics.Counter] = [:]
        for counter in Counter.allCases {
            counters[counter] = Metrics.Counter(label: "social_\(counter.rawValue)_total")
        }
        self.counters = counters
    }

    func add(_ counter: Counter, _ n: Int = 1) {
        guard n > 0 else { return }
        lock.lock()
        values[counter, default: 0] += n
        lock.unlock()
        counters[counter]?.increment(by: n)
    }

    func setOpen(_ n: Int) {
        connections.record(n)
        lock.lock()
        open = n
        lock.unlock()
    }

    private var open = 0

    public func value(_ counter: Counter) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return values[counter] ?? 0
    }

    public var openConnections: Int {
        lock.lock()
        defer { lock.unlock() }
        return open
    }
}
