import Foundation
import Logging
import SocialCore

/// The bus's subscriber: a thread with its own connection in subscribe mode.
/// It follows the node's interest (SUBSCRIBE/UNSUBSCRIBE), reads messages and
/// hands them to the sink in batches, pings to detect a dead connection, and
/// reconnects with capped backoff.
///
/// Recovery: after a reconnect it subscribes to every channel of current
/// interest, then sends a `PING`; Redis answers commands in order, so the
/// `PONG` proves every subscription is active. Only then is the subscriber
/// up again and the sink told `busInterrupted()`, once per outage: clients
/// that `sync` from then on cannot miss what is published next. An outage is
/// a lost connection, however many reconnects fail before one succeeds; or a
/// failed first connect when sessions already registered interest.
/// The first connect of a bus that finds Redis up is no outage.
///
/// Threads: `setInterest`, `attach`, `isUp` and `stop` from any thread (they
/// take `lock` and at most write one byte to the wake pipe: never block on
/// Redis). The thread `init` starts alone owns the connection (see
/// `SubscriberSession`). `@unchecked Sendable`: `interest`, `changes`, `sink`,
/// `stopping` and `up` are only touched under `lock`.
final class RedisSubscriber: @unchecked Sendable {
    let url: RedisURL
    let settings: RedisBusSettings
    let logger: Logger
    let counters: BusCounters
    let wake: WakePipe
    private let lock = NSLock()
    /// Every channel of current interest, and its topic.
    private var interest: [String: Topic] = [:]
    /// Interest changes not yet sent to Redis: channel → (topic, subscribe?).
    private var changes: [String: (Topic, Bool)] = [:]
    private weak var sink: (any BusSink)?
    /// Callers waiting for the interest registered before them to be active (`afterSubscribed`).
    private var waiters: [@Sendable () -> Void] = []
    private var stopping = false
    private var up = false
    /// The connection was up once: a later outage is announced with `busInterrupted`.
    private var wasUp = false
    private let exited = DispatchSemaphore(value: 0)

    init(url: RedisURL, settings: RedisBusSettings, logger: Logger, counters: BusCounters) throws {
        self.url = url
        self.settings = settings
        self.logger = logger
        self.counters = counters
        self.wake = try WakePipe()
        startBusThread(name: "redis-subscriber") { [self] in run() }
    }

    /// Sets where received events go (held weakly). Any thread.
    func attach(_ sink: any BusSink) {
        lock.lock()
        self.sink = sink
        lock.unlock()
    }

    /// Records the change and wakes the thread to send it. Any thread; never blocks.
    func setInterest(_ topic: Topic, _ interested: Bool) {
        let channel = BusWire.channel(topic, prefix: settings.channelPrefix)
        lock.lock()
        let changed = interested ? interest.updateValue(topic, forKey: channel) == nil
                                 : interest.removeValue(forKey: channel) != nil
        if changed { changes[channel] = (topic, interested) }
        lock.unlock()
        if changed { wake.signal() }
    }

    /// Calls `then` once every interest registered before this call is
    /// subscribed on Redis: once the subscriber's fence `PING` after its
    /// `SUBSCRIBE`s is answered; before the first connection, once it is up
    /// (it subscribes to all the interest first). At once while the
    /// connection is down after an outage (the reconnect resyncs clients). Any thread.
    func afterSubscribed(_ then: @escaping @Sendable () -> Void) {
        lock.lock()
        guard !stopping, up || !wasUp else {
            lock.unlock()
            then()
            return
        }
        waiters.append(then)
        lock.unlock()
        wake.signal()
    }

    /// The callers waiting for a fence. Subscriber thread.
    func takeWaiters() -> [@Sendable () -> Void] {
        lock.lock()
        defer { lock.unlock() }
        let taken = waiters
        waiters = []
        return taken
    }

    /// Whether the connection is up with every subscription active. Any thread.
    var isUp: Bool {
        lock.lock()
        defer { lock.unlock() }
        return up
    }

    /// Asks the thread to exit. Any thread.
    func stop() {
        lock.lock()
        stopping = true
        lock.unlock()
        wake.signal()
    }

    /// Blocks until the thread has exited (after `stop`). Any thread but the subscriber's.
    func waitUntilExited() {
        exited.wait()
        exited.signal()
    }

    // MARK: Shared state, for the subscriber thread

    var isStopping: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopping
    }

    var currentSink: (any BusSink)? {
        lock.lock()
        defer { lock.unlock() }
        return sink
    }

    func setUp(_ value: Bool) {
        lock.lock()
        up = value
        if value { wasUp = true }
        lock.unlock()
    }

    /// Every channel of interest; pending changes are then moot. Subscriber thread, on connect.
    func takeAllInterest() -> [String: Topic] {
        lock.lock()
        defer { lock.unlock() }
        changes = [:]
        return interest
    }

    /// The changes since the last call. Subscriber thread.
    func takeChanges() -> [String: (Topic, Bool)] {
        lock.lock()
        defer { lock.unlock() }
        let taken = changes
        changes = [:]
        return taken
    }

    // MARK: Subscriber thread

    private func run() {
        var backoff = Backoff(settings)
        var everUp = false
        var missedEvents = false
        var failures = 0
        while !isStopping {
            var session: SubscriberSession?
            defer { session?.releaseAll() }
            do {
                let connection = try RedisConnection.connect(
                    to: url, connectTimeout: settings.connectTimeoutSeconds, ioTimeout: settings.deadTimeoutSeconds)
                session = SubscriberSession(subscriber: self, connection: connection)
                try session!.serve(onUp: { channels in
                    backoff.reset()
                    logger.info("redis subscriber up", metadata: [
                        "redis": "\(url)", "channels": "\(channels)", "attempts": "\(failures + 1)"])
                    failures = 0
                    // Redis down at startup is an outage too, for the sessions that already registered interest.
                    let interrupted = missedEvents && (everUp || channels > 0)
                    if everUp && missedEvents { counters.metrics.reconnected(.subscriber) }
                    everUp = true
                    missedEvents = false
                    return interrupted
                })
            } catch {
                let wasUp = isUp
                setUp(false)
                // Whoever waits for a subscription goes on: the outage resyncs their clients.
                for waiter in takeWaiters() { waiter() }
                failures += 1
                missedEvents = true
                if wasUp { counters.update { $0.connectionsLost += 1 } }
                logger.log(level: wasUp || failures == 1 ? .warning : .debug,
                           wasUp ? "redis subscriber lost its connection" : "redis subscriber cannot connect",
                           metadata: ["redis": "\(url)", "error": "\(error)"])
                sleepUnlessStopped(seconds: backoff.delay())
            }
        }
        setUp(false)
        for waiter in takeWaiters() { waiter() }
        exited.signal()
    }

    /// Sleeps `seconds`; returns early only when stopping (interest changes
    /// also wake the pipe: they wait for the connection). Subscriber thread.
    private func sleepUnlessStopped(seconds: Double) {
        let deadline = monotonicSeconds() + seconds
        while !isStopping {
            let left = deadline - monotonicSeconds()
            if left <= 0 { return }
            wake.wait(seconds: left)
        }
    }
}
