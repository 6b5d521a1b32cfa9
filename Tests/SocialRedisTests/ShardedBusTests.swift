import Foundation
import SocialCore
import SocialRedis
import SocialTesting
import Testing

/// Three `redis-server` processes as the shards of one bus.
final class Shards {
    let servers: [RedisTestServer]
    init(_ count: Int = 3) throws { servers = try (0..<count).map { _ in try RedisTestServer.start() } }
    /// The `--bus` list.
    var url: String { servers.map(\.url).joined(separator: ",") }
    var map: ShardMap { ShardMap(count: servers.count) }
    /// The server holding `topic`'s channel.
    func server(of topic: Topic) -> RedisTestServer { servers[map.shard(of: topic)] }
    /// `count` chat ids on shard `shard`.
    func chats(on shard: Int, _ count: Int, prefix: String = "g") -> [String] {
        Array((0...).lazy.map { "\(prefix)\($0)" }.filter { self.map.shard(of: $0) == shard }.prefix(count))
    }
}

@Suite struct ShardedBusTests {
    @Test func eachChannelLivesOnItsShardAndEveryEventArrives() async throws {
        let shards = try Shards()
        let a = try BusNode(url: shards.url, name: "a"), b = try BusNode(url: shards.url, name: "b")
        let chats = (0..<3).flatMap { shards.chats(on: $0, 4) }
        for chat in chats { b.bus.setInterest(.chat(chat), true) }
        b.bus.setInterest(.user("maya"), true)
        #expect(await waitHealthy(a, b))
        for chat in chats {
            let home = shards.server(of: .chat(chat))
            #expect(await home.waitForSubscribers("sg:c:\(chat)", 1))
            for other in shards.servers where other !== home { #expect(try other.subscriberCount("sg:c:\(chat)") == 0) }
        }
        for server in shards.servers { #expect(await server.waitForSubscribers("sg:x", 2), "both nodes on every shard's control channel") }

        let events = chats.map { BusEvent(topic: .chat($0), frame: bytes($0), position: 1) }
            + [BusEvent(topic: .user("maya"), frame: awkwardFrame)]
        a.bus.publish(events)  // one call, several shards: each shard's events in order
        #expect(await eventually { b.events.count == events.count })
        #expect(Set(b.events.map(\.frame)) == Set(events.map(\.frame)))
        #expect(a.bus.shardStats.map(\.published) == (0..<3).map { shard in
            events.filter { shards.map.shard(of: $0.topic) == shard }.count
        })
        #expect(b.bus.health.parts.map(\.up) == [true, true, true])
    }

    @Test func aShardDownStopsOnlyItsChatsAndResyncsOnlyTheirSessionsWhenItReturns() async throws {
        let shards = try Shards()
        let a = try BusNode(url: shards.url, name: "a"), b = try BusNode(url: shards.url, name: "b")
        let down = 1
        let cut = shards.chats(on: down, 3), kept = shards.chats(on: 0, 2) + shards.chats(on: 2, 2)
        let users = (0..<40).map { "u\($0)" }
        for chat in cut + kept { b.bus.setInterest(.chat(chat), true) }
        for user in users { b.bus.setInterest(.user(user), true) }
        #expect(await waitHealthy(a, b))
        for chat in cut + kept { #expect(await shards.server(of: .chat(chat)).waitForSubscribers("sg:c:\(chat)", 1)) }

        shards.servers[down].kill()
        #expect(await eventually { b.bus.health.down.map(\.name) == ["1 \(RedisURL(host: "127.0.0.1", port: shards.servers[down].port))"] })
        #expect(b.bus.isHealthy(), "the other shards serve: the node stays ready")
        // The other shards' chats go on, with no interruption.
        let during = kept.map { BusEvent(topic: .chat($0), frame: bytes("during \($0)"), position: 2) }
        a.bus.publish(during)
        #expect(await eventually { during.allSatisfy(b.events.contains) })
        #expect(b.sink.lostTopics.isEmpty && b.sink.interruptions == 0)

        try shards.servers[down].restart()
        #expect(await waitHealthy(a, b))
        #expect(await eventually { b.sink.lostTopics.count == 1 })
        let expected = Set(cut.map { Topic.chat($0) } + users.filter { shards.map.shard(of: $0) == down }.map { Topic.user($0) })
        #expect(b.sink.lostTopics == [expected], "exactly b's topics on the shard that was down")
        #expect(b.sink.interruptions == 0, "no node-wide resync")
        let after = cut.map { BusEvent(topic: .chat($0), frame: bytes("after \($0)"), position: 3) }
        a.bus.publish(after)
        #expect(await eventually { after.allSatisfy(b.events.contains) })
    }

    @Test func afterSubscribedWaitsOnlyForTheShardsWithNewInterest() async throws {
        let shards = try Shards()
        let b = try BusNode(url: shards.url, settings: RedisBusLossTests.patient, name: "b")
        #expect(await waitHealthy(b))
        shards.servers[1].pause()  // hung: its subscriber's fences go unanswered (nobody declares it dead)
        defer { shards.servers[1].resume() }
        let released = Flag()
        b.bus.setInterest(.chat(shards.chats(on: 0, 1)[0]), true)
        b.bus.afterSubscribed { released.set() }
        #expect(await eventually { released.isSet }, "shard 0 confirms; shard 1 has nothing new to confirm")

        let waiting = Flag()
        b.bus.setInterest(.chat(shards.chats(on: 1, 1)[0]), true)
        b.bus.afterSubscribed { waiting.set() }
        try await Task.sleep(nanoseconds: 500_000_000)
        #expect(!waiting.isSet, "shard 1 has not subscribed it yet")
        shards.servers[1].resume()
        #expect(await eventually { waiting.isSet })
        #expect(b.sink.lostTopics.isEmpty && b.sink.interruptions == 0)
    }

    @Test func interestOnAShardDownAtStartIsReleasedAndResyncedWhenTheShardComes() async throws {
        let shards = try Shards()
        shards.servers[2].kill()
        let b = try BusNode(url: shards.url, name: "b")
        #expect(await eventually { b.bus.health.parts.map(\.up) == [true, true, false] })
        let chat = shards.chats(on: 2, 1)[0]
        let released = Flag()
        b.bus.setInterest(.chat(chat), true)
        b.bus.afterSubscribed { released.set() }
        #expect(await eventually { released.isSet }, "an outage does not hold sessions: they are resynced instead")
        try shards.servers[2].restart()
        #expect(await eventually { b.sink.lostTopics == [[.chat(chat)]] }, "the chat's sessions resync once its shard is up")
        #expect(await shards.servers[2].waitForSubscribers("sg:c:\(chat)", 1))
    }
}

/// A flag set from any thread. `@unchecked Sendable`: under `lock`.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
