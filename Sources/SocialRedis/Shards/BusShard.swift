import Logging
import SocialCore

/// One Redis of the bus: its publisher and subscriber threads (each with its
/// own connection) and their counters. A bus of one shard is the bus of
/// before shards; with several, each carries the chats and users the
/// `ShardMap` puts on it, and goes down and recovers on its own.
///
/// Threads: any (the publisher and subscriber say which calls block).
/// Sendable: immutable references to thread-safe parts.
final class BusShard: Sendable {
    let index: Int
    let url: RedisURL
    let publisher: RedisPublisher
    let subscriber: RedisSubscriber
    let counters: BusCounters

    /// Starts the shard's threads; they connect in the background.
    /// - Parameter sharded: the bus has several shards (labels and scoped interruptions).
    init(index: Int, url: RedisURL, settings: RedisBusSettings, logger: Logger, sharded: Bool) throws {
        self.index = index
        self.url = url
        counters = BusCounters(shard: sharded ? String(index) : nil, redis: "\(url.host):\(url.port)")
        var logger = logger
        if sharded { logger[metadataKey: "shard"] = "\(index)" }
        publisher = RedisPublisher(url: url, settings: settings, logger: logger, counters: counters)
        do {
            subscriber = try RedisSubscriber(url: url, settings: settings, logger: logger, counters: counters, sharded: sharded)
        } catch {
            publisher.stop()
            throw error
        }
    }

    /// Both connections are up and every subscription of interest is active. Any thread.
    var isUp: Bool { publisher.isConnected && subscriber.isUp }

    /// For `/readyz`: `1 redis://10.0.0.6:6379/0`.
    var name: String { "\(index) \(url)" }

    /// Asks both threads to stop. Any thread.
    func stop() {
        publisher.stop()
        subscriber.stop()
    }

    /// Blocks until both threads have exited. Not on the lws service thread.
    func waitUntilExited() {
        publisher.waitUntilExited()
        subscriber.waitUntilExited()
    }
}
