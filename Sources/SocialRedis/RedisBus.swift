import Logging
import SocialCore

/// The distributed event bus: Redis pub/sub through hiredis, so that gateway
/// nodes behind a load balancer behave as one.
///
/// - **Channels follow interest.** `setInterest(.chat(id), true)` subscribes
///   this node to `sg:c:<id>`, `setInterest(.user(id), true)` to `sg:u:<id>`;
///   `false` unsubscribes. A node receives only the events of chats and users
///   it has sessions for.
/// - **One path for local and remote events.** `publish` sends every event to
///   its topic's channel; this node receives its own events back through its
///   subscriptions, in the same order as every other node.
/// - **Never blocks the caller.** `publish` and `setInterest` only enqueue
///   (under a lock) and return; the work happens on two threads, each with its
///   own hiredis connection: a publisher that pipelines `PUBLISH` commands and
///   a subscriber in subscribe mode (see `RedisPublisher`, `RedisSubscriber`).
/// - **Recovers by itself.** Both threads reconnect with capped backoff; the
///   subscriber then subscribes to every channel of interest again and calls
///   `busInterrupted()` on the sink once per outage (events published during
///   it are lost: clients must `sync`).
///
/// The message format is described in `BusWire`.
public final class RedisBus: EventBus {
    public typealias Settings = RedisBusSettings
    public typealias Stats = RedisBusStats

    public let url: RedisURL
    public let settings: Settings
    private let publisher: RedisPublisher
    private let subscriber: RedisSubscriber
    private let counters = BusCounters()

    /// Starts the publisher and subscriber threads; they connect in the
    /// background, so Redis need not be up yet (`isHealthy()` says when it is).
    /// - Parameters:
    ///   - url: `redis://host[:port][/db]` (see `RedisURL`).
    ///   - logger: connection changes, refused publishes, malformed messages.
    ///   - settings: timings and limits; the defaults suit production.
    ///     Timings under 10 ms and limits under 1 are raised to those.
    /// - Throws: `RedisBusError.invalidURL` for a bad URL.
    public init(url: String, logger: Logger, settings: Settings = Settings()) throws {
        let parsed = try RedisURL(parsing: url)
        let settings = settings.clamped
        self.url = parsed
        self.settings = settings
        publisher = RedisPublisher(url: parsed, settings: settings, logger: logger, counters: counters)
        do {
            subscriber = try RedisSubscriber(url: parsed, settings: settings, logger: logger, counters: counters)
        } catch {
            publisher.stop()
            throw error
        }
    }

    deinit {
        publisher.stop()
        subscriber.stop()
    }

    /// Sets where received events go; held weakly (the owner keeps it alive).
    public func attach(_ sink: any BusSink) {
        subscriber.attach(sink)
    }

    /// Queues `events` for the publisher thread and returns at once. Any thread.
    public func publish(_ events: [BusEvent]) {
        guard !events.isEmpty else { return }
        publisher.enqueue(events)
    }

    /// Subscribes to or unsubscribes from `topic`'s channel, in the
    /// background. Any thread; never blocks.
    public func setInterest(_ topic: Topic, _ interested: Bool) {
        subscriber.setInterest(topic, interested)
    }

    /// Both connections are up and every subscription of interest is active.
    /// Other nodes publish here too: their events of a chat may arrive out of order.
    public var isDistributed: Bool { true }

    public func afterSubscribed(_ then: @escaping @Sendable () -> Void) {
        subscriber.afterSubscribed(then)
    }

    public func isHealthy() -> Bool {
        publisher.isConnected && subscriber.isUp
    }

    /// What the bus has done since it started.
    public var stats: Stats { counters.snapshot }

    /// Stops both threads and waits for them to exit. The publisher first
    /// sends what is queued if it is connected. Blocks up to the connect or
    /// dead timeout when Redis is unreachable: not on the lws service thread.
    /// Idempotent.
    public func close() {
        publisher.stop()
        subscriber.stop()
        publisher.waitUntilExited()
        subscriber.waitUntilExited()
    }
}
