import Foundation
import SocialCore
import SocialRedis
import SocialTesting
import Testing

/// Events per second from one publishing bus, through real `redis-server`
/// processes (one, two or three shards), to a subscribing bus (another
/// node), with the CPU each shard's Redis spent. A benchmark that prints
/// figures, not a timed assertion; opt-in, and meant for a release build:
///
///     REDIS_BUS_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter RedisBusThroughput
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["REDIS_BUS_BENCH"] != nil))
struct RedisBusThroughput {
    /// A `message.new` push of a typical size (about 230 bytes).
    static let frame = bytes("""
        {"event":"message.new","data":{"chat_id":"grp_01JDQ7M3ZC","message":{"seq":4812,"updated_seq":4812,\
        "sender":"usr_maya","kind":"text","text":"Great run this morning! Same route tomorrow at 6:30?",\
        "created_at":1732500000000}}}
        """)

    @Test(arguments: [(1, 1), (1, 1000), (2, 1000), (3, 1000)])
    func eventsPerSecondFromOneNodeToAnother(shards: Int, chats: Int) async throws {
        let count = 200_000
        let servers = try (0..<shards).map { _ in try RedisTestServer.start() }
        let url = servers.map(\.url).joined(separator: ",")
        var settings = RedisBus.Settings()
        settings.publishQueueLimit = count  // a burst: measure throughput, not the drop policy
        let publisher = try BusNode(url: url, settings: settings, name: "publisher")
        let subscriber = try BusNode(url: url, settings: settings, name: "subscriber")
        let counter = CountingSink()
        subscriber.bus.attach(counter)
        for chat in 0..<chats { subscriber.bus.setInterest(.chat("c\(chat)"), true) }
        #expect(await waitHealthy(publisher, subscriber))
        let map = ShardMap(count: shards)
        for chat in 0..<chats {
            #expect(await servers[map.shard(of: "c\(chat)")].waitForSubscribers("sg:c:c\(chat)", 1))
        }

        let events = (0..<count).map { BusEvent(topic: .chat("c\($0 % chats)"), frame: Self.frame) }
        let redisBefore = servers.map { CPUTime.of(process: $0.processIdentifier) }
        let ownBefore = CPUTime.ofThisProcess()
        let start = ContinuousClock.now
        for event in events { publisher.bus.publish([event]) }  // one call per event, as commands publish
        let enqueued = ContinuousClock.now - start
        #expect(await eventually(timeout: 120, interval: 0.001) { counter.count >= count })
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let redisCPU = zip(servers, redisBefore).map { CPUTime.of(process: $0.processIdentifier) - $1 }
        let ownCPU = CPUTime.ofThisProcess() - ownBefore
        let perShard = publisher.bus.shardStats.map(\.published)
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3)
            .joined(separator: " ") ?? "?"
        print("""
            redis bus, \(shards) shard(s), \(chats) chat channel(s): \(count) events of \(Self.frame.count) B: \
            \(Int(Double(counter.count) / seconds)) events/s end to end (\(elapsed)); publish calls took \(enqueued) \
            in all; \(counter.batches) deliver calls; dropped \(publisher.bus.stats.dropped); \
            both buses' CPU \(String(format: "%.2f", ownCPU)) s = \(String(format: "%.2f", ownCPU / Double(count) * 1e6)) µs/event; \
            load average \(load)
            """)
        for shard in 0..<shards {
            let events = perShard[shard]
            print("""
                  shard \(shard): \(events) events, \(Int(Double(events) / seconds)) events/s, \
                Redis CPU \(String(format: "%.2f", redisCPU[shard])) s (\(String(format: "%.0f", 100 * redisCPU[shard] / seconds))% of a core), \
                \(String(format: "%.2f", redisCPU[shard] / Double(max(1, events)) * 1e6)) µs/event
                """)
        }
        #expect(counter.count == count)
        #expect(publisher.bus.stats.dropped == 0)
    }
}

/// CPU seconds (user + system) of a process, from `/proc`. Linux only; 0 when unknown.
enum CPUTime {
    static func of(process pid: Int32?) -> Double {
        guard let pid, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        // Fields after the command name: state is the 3rd field, utime the 14th, stime the 15th.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func ofThisProcess() -> Double { of(process: getpid()) }
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
