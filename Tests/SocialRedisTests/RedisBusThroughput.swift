import Foundation
import SocialCore
import SocialRedis
import SocialTesting
import Testing

/// Events per second from one publishing bus, through a real `redis-server`,
/// to a subscribing bus (another node). A benchmark that prints figures, not a
/// timed assertion; opt-in, and meant for a release build:
///
///     REDIS_BUS_BENCH=1 swift test -c release --filter RedisBusThroughput
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["REDIS_BUS_BENCH"] != nil))
struct RedisBusThroughput {
    /// A `message.new` push of a typical size (about 230 bytes).
    static let frame = bytes("""
        {"event":"message.new","data":{"chat_id":"grp_01JDQ7M3ZC","message":{"seq":4812,"updated_seq":4812,\
        "sender":"usr_maya","kind":"text","text":"Great run this morning! Same route tomorrow at 6:30?",\
        "created_at":1732500000000}}}
        """)

    @Test(arguments: [1, 1000])
    func eventsPerSecondFromOneNodeToAnother(chats: Int) async throws {
        let count = 200_000
        let server = try RedisTestServer.start()
        var settings = RedisBus.Settings()
        settings.publishQueueLimit = count  // a burst: measure throughput, not the drop policy
        let publisher = try BusNode(server, settings: settings, name: "publisher")
        let subscriber = try BusNode(server, settings: settings, name: "subscriber")
        let counter = CountingSink()
        subscriber.bus.attach(counter)
        for chat in 0..<chats { subscriber.bus.setInterest(.chat("c\(chat)"), true) }
        #expect(await waitHealthy(publisher, subscriber))
        #expect(await server.waitForSubscribers("sg:c:c\(chats - 1)", 1))

        let events = (0..<count).map { BusEvent(topic: .chat("c\($0 % chats)"), frame: Self.frame) }
        let start = ContinuousClock.now
        for event in events { publisher.bus.publish([event]) }  // one call per event, as commands publish
        let enqueued = ContinuousClock.now - start
        #expect(await eventually(timeout: 120, interval: 0.001) { counter.count >= count })
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("""
            redis bus: \(count) events of \(Self.frame.count) B over \(chats) chat channel(s): \
            \(Int(Double(counter.count) / seconds)) events/s end to end (\(elapsed)); \
            publish calls took \(enqueued) in all; \(counter.batches) deliver calls; \
            dropped \(publisher.bus.stats.dropped)
            """)
        #expect(counter.count == count)
        #expect(publisher.bus.stats.dropped == 0)
    }
}

/// Counts deliveries without keeping them. Thread-safe under `lock`, hence
/// `@unchecked Sendable`.
private final class CountingSink: BusSink, @unchecked Sendable {
    private let lock = NSLock()
    private var events = 0
    private var calls = 0
    func deliver(_ batch: [BusEvent]) { lock.withLock { events += batch.count; calls += 1 } }
    func busInterrupted() {}
    var count: Int { lock.withLock { events } }
    var batches: Int { lock.withLock { calls } }
}
