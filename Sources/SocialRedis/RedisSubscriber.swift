import Foundation
import Logging
import SocialCore

/// The bus's subscriber for one shard: a thread with its own connection in
/// subscribe mode. It follows the node's interest in the shard's topics
/// (SUBSCRIBE/UNSUBSCRIBE), listens on the control channel (`BusControl`),
/// reads messages and hands them to the sink in batches, pings to detect a
/// dead connection, and reconnects with capped backoff (`RedisWorker`).
///
/// Recovery: after a reconnect it subscribes to every channel of current
/// interest, then sends a `PING`; Redis answers commands in order, so the
/// `PONG` proves every subscription is active. Only then is the subscriber
/// up again and the sink told `busInterrupted()` (for the only shard) or
/// `busInterrupted(topics:)` with the shard's topics (one shard of several),
/// once per outage, before any event read on the new connection: clients
/// that `sync` from then on cannot miss what is published next, and none
/// sees an event after the hole before its `resync`. An outage is a lost
/// connection, however many reconnects fail before one succeeds; or a failed
/// first connect when sessions already registered interest. The first
/// connect of a bus that finds Redis up is no outage.
///
/// A loss announced on the control channel (another node's publisher lost
/// events) reaches the sink as `busInterrupted(topics:)` with the lost topics
/// this node follows, in stream order with the events around it.
///
/// Threads: `setInterest`, `attach`, `afterSubscribed`, `isUp` and `stop`
/// from any thread (they take `worker.condition` and at most write one byte
/// to the wake pipe: never block on Redis). The worker's thread alone owns
/// the connection (see `SubscriberSession`). `@unchecked Sendable`: the
/// state below `worker` is only touched under `worker.condition`;
/// `everUp` and `missedEvents` only by the worker's thread.
final class RedisSubscriber: RedisWorkerBody, @unchecked Sendable {
    let url: RedisURL
    let settings: RedisBusSettings
    let counters: BusCounters
    let wake: WakePipe
    /// One shard of several: an outage or a loss is reported with its topics.
    let isSharded: Bool
    private let worker: RedisWorker
    /// Every channel of current interest, and its topic.
    private var interest: [String: Topic] = [:]
    /// Interest changes not yet sent to Redis: channel → (topic, subscribe?).
    private var changes: [String: (Topic, Bool)] = [:]
    /// Counts the changes of interest; a PING sent after the changes of a
    /// version proves them active once answered.
    private var interestVersion = 0
    /// The interest version the last answered PING proved active on the current connection.
    private var confirmedVersion = 0
    private weak var sink: (any BusSink)?
    /// Callers waiting for the interest registered before them to be active (`afterSubscribed`).
    private var waiters: [@Sendable () -> Void] = []
    private var up = false
    /// The connection was up once: a later outage is announced with `busInterrupted`.
    private var wasUp = false
    // Worker thread only.
    private var everUp = false
    private var missedEvents = false

    init(url: RedisURL, settings: RedisBusSettings, logger: Logger, counters: BusCounters, sharded: Bool) throws {
        self.url = url
        self.settings = settings
        self.counters = counters
        self.isSharded = sharded
        let wake = try WakePipe()
        self.wake = wake
        worker = RedisWorker(name: "redis subscriber", url: url, logger: logger,
                             reconnect: (settings.reconnectInitialSeconds, settings.reconnectMaxSeconds),
                             onStop: { wake.signal() })
        worker.start(self)
    }

    var logger: Logger { worker.logger }

    /// Sets where received events go (held weakly). Any thread.
    func attach(_ sink: any BusSink) {
        worker.condition.lock()
        self.sink = sink
        worker.condition.unlock()
    }

    /// Records the change and wakes the thread to send it. Any thread; never blocks.
    func setInterest(_ topic: Topic, _ interested: Bool) {
        let channel = BusWire.channel(topic, prefix: settings.channelPrefix)
        worker.condition.lock()
        let changed = interested ? interest.updateValue(topic, forKey: channel) == nil
                                 : interest.removeValue(forKey: channel) != nil
        if changed {
            changes[channel] = (topic, interested)
            interestVersion += 1
        }
        worker.condition.unlock()
        if changed { wake.signal() }
    }

    /// Calls `then` once every interest registered before this call is
    /// subscribed on Redis: at once when nothing changed since the last
    /// answered `PING` (nothing to wait for on this shard); otherwise once
    /// the fence `PING` sent after the `SUBSCRIBE`s is answered (before the
    /// first connection: once it is up). At once while the connection is
    /// down after an outage (the reconnect resyncs clients). Any thread.
    func afterSubscribed(_ then: @escaping @Sendable () -> Void) {
        worker.condition.lock()
        let now = worker.isStoppingLocked || confirmedVersion >= interestVersion || (wasUp && !up)
        if !now { waiters.append(then) }
        worker.condition.unlock()
        if now { then() } else { wake.signal() }
    }

    /// Whether the connection is up with every subscription active. Any thread.
    var isUp: Bool {
        worker.condition.lock()
        defer { worker.condition.unlock() }
        return up
    }

    /// Asks the thread to exit. Any thread.
    func stop() { worker.stop() }

    /// Blocks until the thread has exited (after `stop`). Any thread but the subscriber's.
    func waitUntilExited() { worker.waitUntilExited() }

    // MARK: Shared state, for the subscriber thread

    var isStopping: Bool { worker.isStopping }

    var currentSink: (any BusSink)? {
        worker.condition.lock()
        defer { worker.condition.unlock() }
        return sink
    }

    /// Every channel of interest and its version, and the callers waiting:
    /// pending changes are then moot. Subscriber thread, on connect.
    func takeAllInterest() -> (interest: [String: Topic], version: Int, waiters: [@Sendable () -> Void]) {
        worker.condition.lock()
        defer { worker.condition.unlock() }
        changes = [:]
        let taken = waiters
        waiters = []
        return (interest, interestVersion, taken)
    }

    /// The changes since the last call, the version they bring the interest
    /// to, and the callers waiting for them. Subscriber thread.
    func takeChanges() -> (changes: [String: (Topic, Bool)], version: Int, waiters: [@Sendable () -> Void]) {
        worker.condition.lock()
        defer { worker.condition.unlock() }
        let taken = (changes, interestVersion, waiters)
        changes = [:]
        waiters = []
        return taken
    }

    /// A PING sent once the interest was at `version` was answered. Subscriber thread.
    func confirm(_ version: Int) {
        worker.condition.lock()
        confirmedVersion = max(confirmedVersion, version)
        worker.condition.unlock()
    }

    private func setUp(_ value: Bool) {
        worker.condition.lock()
        up = value
        if value { wasUp = true } else { confirmedVersion = 0 }
        worker.condition.unlock()
        counters.connection(.subscriber, isUp: value)
    }

    /// The callers waiting for a fence: they go on (the outage resyncs their clients).
    private func releaseWaiters() {
        worker.condition.lock()
        let taken = waiters
        waiters = []
        worker.condition.unlock()
        for waiter in taken { waiter() }
    }

    // MARK: Subscriber thread (RedisWorkerBody)

    func open() throws -> RedisConnection {
        try RedisConnection.connect(to: url, connectTimeout: settings.connectTimeoutSeconds,
                                    ioTimeout: settings.deadTimeoutSeconds)
    }

    func serve(_ connection: RedisConnection) throws {
        var session = SubscriberSession(subscriber: self, connection: connection)
        defer { session.releaseAll() }
        try session.serve(onUp: { channels in
            setUp(true)
            logger.info("redis subscriber up", metadata: ["redis": "\(url)", "channels": "\(channels)"])
            // Redis down at startup is an outage too, for the sessions that already registered interest.
            let interrupted = missedEvents && (everUp || channels > 0)
            if everUp && missedEvents { counters.metrics.reconnected(.subscriber) }
            everUp = true
            missedEvents = false
            return interrupted
        })
    }

    func connectFailed(_ error: any Error, failures: Int) { down() }

    func lost(_ error: any Error) { down() }

    func finished() {
        setUp(false)
        releaseWaiters()
    }

    private func down() {
        let wasUp = isUp
        setUp(false)
        releaseWaiters()
        missedEvents = true
        if wasUp { counters.update { $0.connectionsLost += 1 } }
    }
}
