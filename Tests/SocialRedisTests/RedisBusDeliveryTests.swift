import Foundation
import SocialCore
import SocialRedis
import SocialTesting
import Testing

/// Two or three `RedisBus` instances on one real `redis-server` stand for
/// gateway nodes: what one publishes reaches the others that have interest.
@Suite struct RedisBusDeliveryTests {
    @Test func anotherNodeReceivesItsChatsAndUsersEventsInOrderWithEveryFieldIntact() async throws {
        let server = try RedisTestServer.start()
        let a = try BusNode(server, name: "a"), b = try BusNode(server, name: "b"), c = try BusNode(server, name: "c")
        b.bus.setInterest(.chat("run-club"), true)
        b.bus.setInterest(.user("maya"), true)
        c.bus.setInterest(.chat("other-chat"), true)
        #expect(await server.waitForSubscribers("sg:c:run-club", 1))
        #expect(await server.waitForSubscribers("sg:u:maya", 1))
        #expect(await server.waitForSubscribers("sg:c:other-chat", 1))

        let sent = [
            BusEvent(topic: .chat("run-club"), frame: awkwardFrame),
            BusEvent(topic: .user("maya"), frame: [], subscription: .init(chat: "run-club", joined: true)),
            BusEvent(topic: .chat("run-club"), frame: bytes("{\"event\":\"typing\"}"), ephemeral: true),
            BusEvent(topic: .user("maya"), frame: bytes("{\"event\":\"chat.removed\"}"),
                     subscription: .init(chat: "old \"chat\"\n", joined: false)),
            BusEvent(topic: .user("leo"), frame: bytes("not for b")),
            BusEvent(topic: .chat("run-club"), frame: bytes("{\"event\":\"message.new\",\"data\":{\"seq\":7}}")),
        ]
        a.bus.publish(Array(sent[0..<2]))
        a.bus.publish(Array(sent[2...]))

        let expected = sent.filter { $0.topic != .user("leo") }
        #expect(await eventually { b.events.count >= expected.count })
        #expect(b.events == expected)
        try await Task.sleep(nanoseconds: 300_000_000)  // anything stray would have arrived by now
        #expect(b.events.count == expected.count)
        #expect(c.events.isEmpty, "a node interested in other chats receives nothing")
        #expect(a.events.isEmpty, "the publishing node has no interest")
        #expect(await eventually { a.bus.stats.published == sent.count })
        #expect(b.bus.stats.delivered == expected.count)
    }

    @Test func aNodeReceivesItsOwnEventsThroughItsSubscription() async throws {
        let server = try RedisTestServer.start()
        let a = try BusNode(server)
        a.bus.setInterest(.chat("c1"), true)
        #expect(await server.waitForSubscribers("sg:c:c1", 1))
        let sent = (1...20).map { BusEvent(topic: .chat("c1"), frame: bytes("event \($0)"), ephemeral: $0 % 4 == 0) }
        for event in sent { a.bus.publish([event]) }
        #expect(await eventually { a.events.count >= sent.count })
        #expect(a.events == sent)
    }

    @Test func unsubscribingStopsDelivery() async throws {
        let server = try RedisTestServer.start()
        let a = try BusNode(server, name: "a"), b = try BusNode(server, name: "b")
        b.bus.setInterest(.chat("c1"), true)
        b.bus.setInterest(.chat("c2"), true)
        #expect(await server.waitForSubscribers("sg:c:c1", 1))
        #expect(await server.waitForSubscribers("sg:c:c2", 1))
        let first = BusEvent(topic: .chat("c1"), frame: bytes("first"))
        a.bus.publish([first])
        #expect(await eventually { b.events == [first] })

        b.bus.setInterest(.chat("c1"), false)
        #expect(await server.waitForSubscribers("sg:c:c1", 0))
        #expect(await server.waitForSubscribers("sg:c:c2", 1), "the other chat stays subscribed")
        let marker = BusEvent(topic: .chat("c2"), frame: bytes("marker"))
        a.bus.publish([BusEvent(topic: .chat("c1"), frame: bytes("after unsubscribe")), marker])
        // Both come from one connection in order: once the marker is here, the other would be too.
        #expect(await eventually { b.events.count >= 2 })
        #expect(b.events == [first, marker])
    }

    @Test func interestIsASetFollowingTheLatestCall() async throws {
        let server = try RedisTestServer.start()
        let b = try BusNode(server)
        for _ in 0..<50 {
            b.bus.setInterest(.user("u1"), true)
            b.bus.setInterest(.user("u1"), false)
        }
        b.bus.setInterest(.user("u1"), true)
        b.bus.setInterest(.user("u1"), true)
        b.bus.setInterest(.user("u2"), true)
        b.bus.setInterest(.user("u2"), false)
        #expect(await server.waitForSubscribers("sg:u:u1", 1))
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(try server.subscriberCount("sg:u:u1") == 1)
        #expect(try server.subscriberCount("sg:u:u2") == 0)
        b.bus.setInterest(.user("u1"), false)
        #expect(await server.waitForSubscribers("sg:u:u1", 0), "one false after two trues unsubscribes")
    }

    @Test func deliversWhatIsReadTogetherInOneCall() async throws {
        let server = try RedisTestServer.start()
        let a = try BusNode(server, name: "a"), b = try BusNode(server, name: "b")
        b.bus.setInterest(.chat("busy"), true)
        #expect(await server.waitForSubscribers("sg:c:busy", 1))
        let sent = (0..<2000).map { BusEvent(topic: .chat("busy"), frame: bytes("{\"n\":\($0)}")) }
        a.bus.publish(sent)
        #expect(await eventually { b.events.count >= sent.count })
        #expect(b.events == sent)
        #expect(b.sink.batches.count < sent.count / 10, "\(b.sink.batches.count) deliver calls for \(sent.count) events")
    }

    @Test func closeStopsBothConnections() async throws {
        let server = try RedisTestServer.start()
        let a = try BusNode(server)
        a.bus.setInterest(.chat("c1"), true)
        #expect(await server.waitForSubscribers("sg:c:c1", 1))
        #expect(await waitHealthy(a))
        a.bus.close()
        #expect(!a.bus.isHealthy())
        #expect(await server.waitForSubscribers("sg:c:c1", 0))
        #expect(await eventually { (try? server.connectedClients()) == 1 }, "only the asking connection is left")
        a.bus.close()  // idempotent
    }
}
