import Foundation
import Logging
import SocialCore
import Synchronization

/// The distributed event bus: Redis pub/sub through hiredis, so that gateway
/// nodes behind a load balancer behave as one; over one Redis, or several
/// (shards) when one Redis's single thread is not enough.
///
/// - **Channels follow interest.** `setInterest(.chat(id), true)` subscribes
///   this node to `sg:c:<id>`, `setInterest(.user(id), true)` to `sg:u:<id>`;
///   `false` unsubscribes. A node receives only the events of chats and users
///   it has sessions for.
/// - **Shards.** With several Redis URLs, each chat's channel lives on one
///   shard and each user's channels on one, chosen by `ShardMap`
///   (consistent hashing); every node connects to every shard. A shard that
///   goes down affects only its own chats and users: their sessions are told
///   to resync when it returns (`busInterrupted(topics:)`), the others' events
///   go on.
/// - **One path for local and remote events.** `publish` sends every event to
///   its topic's channel; this node receives its own events back through its
///   subscriptions, in the same order as every other node.
/// - **Never blocks the caller.** `publish` and `setInterest` only enqueue
///   (under a lock) and return; the work happens on two threads per shard,
///   each with its own hiredis connection: a publisher that pipelines
///   `PUBLISH` commands and a subscriber in subscribe mode (see
///   `RedisPublisher`, `RedisSubscriber`).
/// - **Recovers by itself, and says what was lost.** Both threads reconnect
///   with capped backoff; the subscriber then subscribes to every channel of
///   interest again and reports the outage once, before any event read
///   after it (events published during it are lost: clients must `sync`).
///   A publisher that loses events announces their topics on the control
///   channel before it publishes anything else (`BusControl`).
///
/// The message format is described in `BusWire`.
public final class RedisBus: EventBus {
    public typealias Settings = RedisBusSettings
    public typealias Stats = RedisBusStats

    /// The shards, in `ShardMap` order.
    public let urls: [RedisURL]
    public let settings: Settings
    public let map: ShardMap
    private let shards: [BusShard]

    /// Starts the publisher and subscriber threads of every shard; they
    /// connect in the background, so Redis need not be up yet (`isHealthy()`
    /// says when it is).
    /// - Parameters:
    ///   - url: `redis://host[:port][/db]` (see `RedisURL`), or several
    ///     separated by commas: the shards, in the same order on every node.
    ///   - logger: connection changes, refused publishes, malformed messages.
    ///   - settings: timings and limits; the defaults suit production.
    ///     Timings under 10 ms and limits under 1 are raised to those.
    /// - Throws: `RedisBusError.invalidURL` for a bad URL or list.
    public convenience init(url: String, logger: Logger, settings: Settings = Settings()) throws {
        try self.init(urls: RedisURL.list(parsing: url), logger: logger, settings: settings)
    }

    /// Starts a bus over `urls`, the shards in `ShardMap` order (at least one).
    public init(urls: [RedisURL], logger: Logger, settings: Settings = Settings()) throws {
        guard !urls.isEmpty else { throw RedisBusError.invalidURL("the bus needs at least one Redis") }
        let settings = settings.clamped
        self.urls = urls
        self.settings = settings
        map = ShardMap(count: urls.count)
        var shards: [BusShard] = []
        do {
            for (index, url) in urls.enumerated() {
                shards.append(try BusShard(index: index, url: url, settings: settings, logger: logger,
                                           sharded: urls.count > 1))
            }
        } catch {
            for shard in shards { shard.stop() }
            throw error
        }
        self.shards = shards
    }

    deinit {
        for shard in shards { shard.stop() }
    }

    /// The first shard's URL (the only one of an unsharded bus).
    public var url: RedisURL { urls[0] }

    /// Sets where received events go; held weakly (the owner keeps it alive).
    public func attach(_ sink: any BusSink) {
        for shard in shards { shard.subscriber.attach(sink) }
    }

    /// Queues `events` for their shards' publishers and returns at once;
    /// events of one shard keep their order. Any thread.
    public func publish(_ events: [BusEvent]) {
        guard !events.isEmpty else { return }
        guard shards.count > 1 else {
            shards[0].publisher.enqueue(events)
            return
        }
        if events.count == 1 {
            shards[map.shard(of: events[0].topic)].publisher.enqueue(events)
            return
        }
        var byShard = [[BusEvent]](repeating: [], count: shards.count)
        for event in events { byShard[map.shard(of: event.topic)].append(event) }
        for (shard, batch) in zip(shards, byShard) where !batch.isEmpty { shard.publisher.enqueue(batch) }
    }

    /// Subscribes to or unsubscribes from `topic`'s channel on its shard, in
    /// the background. Any thread; never blocks.
    public func setInterest(_ topic: Topic, _ interested: Bool) {
        shards[map.shard(of: topic)].subscriber.setInterest(topic, interested)
    }

    /// Other nodes publish here too: their events of a chat may arrive out of order.
    public var isDistributed: Bool { true }

    /// Calls `then` once every shard has made active the interest registered
    /// on it before the call (a shard with nothing new to subscribe answers at once).
    public func afterSubscribed(_ then: @escaping @Sendable () -> Void) {
        guard shards.count > 1 else {
            shards[0].subscriber.afterSubscribed(then)
            return
        }
        let countdown = Countdown(shards.count, then)
        for shard in shards { shard.subscriber.afterSubscribed { countdown.done() } }
    }

    /// One Redis: both its connections are up and every subscription of
    /// interest is active. Several shards: at least one shard is up (every
    /// node shares the shards, so taking nodes out of the load balancer for
    /// one shard would cut off the chats of the others too; `health` says
    /// which shard is down).
    public func isHealthy() -> Bool {
        shards.count == 1 ? shards[0].isUp : shards.contains { $0.isUp }
    }

    /// Each shard and whether it is up.
    public var health: BusHealth {
        BusHealth(parts: shards.map { .init(name: $0.name, up: $0.isUp) })
    }

    /// What the bus has done since it started, all shards together.
    public var stats: Stats { shards.map(\.counters.snapshot).reduce(Stats(), +) }

    /// What each shard has done, in shard order.
    public var shardStats: [Stats] { shards.map(\.counters.snapshot) }

    /// Stops every thread and waits for them to exit. Each publisher first
    /// sends what is queued if it is connected. Blocks up to the connect or
    /// dead timeout when Redis is unreachable: not on the lws service thread.
    /// Idempotent.
    public func close() {
        for shard in shards { shard.stop() }
        for shard in shards { shard.waitUntilExited() }
    }
}

/// Calls its action once `done` was called `count` times. Any thread.
private final class Countdown: Sendable {
    private let left: Atomic<Int>
    private let action: @Sendable () -> Void

    init(_ count: Int, _ action: @escaping @Sendable () -> Void) {
        left = Atomic(count)
        self.action = action
    }

    func done() {
        if left.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { action() }
    }
}
