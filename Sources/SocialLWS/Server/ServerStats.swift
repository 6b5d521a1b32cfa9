import Metrics
import Synchronization

/// The transport's counters, reported through swift-metrics (exported at
/// `/metrics` as `social_<name>_total`) and readable here for tests and logs.
/// The service thread adds its counts once a second (`LocalCounts`); any
/// thread may read.
public final class ServerStats: Sendable {
    public enum Counter: String, CaseIterable, Sendable {
        case connectionsOpened = "connections_opened"
        case connectionsClosed = "connections_closed"
        case handshakesRejected = "handshakes_rejected"
        case commandsReceived = "commands_received"
        case framesSent = "frames_sent"
        /// Messages (replies and events) in those frames: more than frames when batched.
        case messagesSent = "messages_sent"
        case eventsQueued = "events_queued"
        case ephemeralDropped = "ephemeral_dropped"
        case slowConsumerCloses = "slow_consumer_closes"
        case oversizeCloses = "oversize_closes"
        case idleCloses = "idle_closes"
        case tokenExpiredCloses = "token_expired_closes"
        case apiRequests = "api_requests"
        case forcedDisconnects = "forced_disconnects"
        case rateLimitCloses = "rate_limit_closes"
        /// Presence watches ended because the users no longer share a chat (or that could not be checked).
        case presenceWatchesRevoked = "presence_watches_revoked"
        /// Sockets closed as soon as they were accepted: the node held all it may, none half-open to evict.
        case socketsRefused = "sockets_refused"
        /// Half-open sockets (no complete request yet) closed to make room for a new one.
        case socketsEvicted = "sockets_evicted"
        /// Times the listener rested because accept() failed (out of descriptors).
        case acceptRests = "accept_rests"
        /// Requests whose head filled lws's header space (answered 431 as lws closed them).
        case requestHeadsTooLarge = "request_heads_too_large"
    }

    private let values = Mutex<[Counter: Int]>([:])
    private let open = Atomic<Int>(0)
    private let counters: [Counter: Metrics.Counter]
    /// `social_connections{state}`: WebSockets loading their chats, ready, closing (they add up to the open ones).
    private let loading = Gauge(label: "social_connections", dimensions: [("state", "loading")])
    private let ready = Gauge(label: "social_connections", dimensions: [("state", "ready")])
    private let closing = Gauge(label: "social_connections", dimensions: [("state", "closing")])
    /// `social_sockets{state}`: accepted sockets open (`open`: all of them) and those
    /// without a complete request yet (`half_open`).
    private let socketsOpen = Gauge(label: "social_sockets", dimensions: [("state", "open")])
    private let socketsHalfOpen = Gauge(label: "social_sockets", dimensions: [("state", "half_open")])
    private let sockets = Mutex((open: 0, halfOpen: 0))

    public init() {
        var counters: [Counter: Metrics.Counter] = [:]
        for counter in Counter.allCases {
            counters[counter] = Metrics.Counter(label: "social_\(counter.rawValue)_total")
        }
        self.counters = counters
    }

    func add(_ counter: Counter, _ n: Int = 1) {
        guard n > 0 else { return }
        values.withLock { $0[counter, default: 0] += n }
        counters[counter]?.increment(by: n)
    }

    /// Records how many sessions are in each phase.
    func setConnections(loading: Int, ready: Int, closing: Int) {
        self.loading.record(loading)
        self.ready.record(ready)
        self.closing.record(closing)
    }

    /// Records the accepted sockets open, and how many of them are half-open.
    func setSockets(open: Int, halfOpen: Int) {
        sockets.withLock { $0 = (open, halfOpen) }
        socketsOpen.record(open)
        socketsHalfOpen.record(halfOpen)
    }

    /// The accepted sockets open and half-open, as last recorded (once a second, and for `/metrics`).
    public var socketCounts: (open: Int, halfOpen: Int) { sockets.withLock { $0 } }

    func setOpen(_ n: Int) {
        open.store(n, ordering: .relaxed)
    }

    public func value(_ counter: Counter) -> Int {
        values.withLock { $0[counter] ?? 0 }
    }

    public var openConnections: Int { open.load(ordering: .relaxed) }
}
