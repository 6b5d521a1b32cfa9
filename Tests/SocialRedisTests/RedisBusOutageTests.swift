import Foundation
import SocialCore
import SocialRedis
import SocialTesting
import Testing

/// The bus when Redis is down, restarted, hung, or sent garbage.
@Suite struct RedisBusOutageTests {
    @Test func publishAndSetInterestReturnAtOnceWhenRedisIsDown() async throws {
        let server = try RedisTestServer.start()
        server.kill()
        let node = try BusNode(server)
        let clock = ContinuousClock()
        var slowest = Duration.zero
        let calls = 5000
        let total = clock.measure {
            for n in 0..<calls {
                let call = clock.measure {
                    node.bus.publish([BusEvent(topic: .chat("c\(n % 50)"), frame: awkwardFrame, ephemeral: n % 2 == 0)])
                    node.bus.setInterest(.chat("c\(n % 50)"), n % 3 != 0)
                }
                slowest = max(slowest, call)
            }
        }
        print("redis down: \(calls) publish+setInterest pairs in \(total), slowest pair \(slowest)")
        // Connecting blocks up to 0.5 s here: a caller that waited for it would blow these bounds.
        #expect(total < .milliseconds(calls / 10), "mean under 100 µs per pair")
        #expect(slowest < .milliseconds(100))
        #expect(!node.bus.isHealthy())
    }

    @Test func publishReturnsAtOnceWhenRedisHangs() async throws {
        let server = try RedisTestServer.start()
        let node = try BusNode(server)
        #expect(await waitHealthy(node))
        server.pause()
        defer { server.resume() }
        let clock = ContinuousClock()
        let total = clock.measure {
            for n in 0..<2000 { node.bus.publish([BusEvent(topic: .chat("c"), frame: bytes("\(n)"))]) }
            for n in 0..<2000 { node.bus.setInterest(.user("u\(n)"), true) }
        }
        #expect(total < .milliseconds(400), "4000 calls took \(total)")
    }

    @Test func aFullQueueDropsEphemeralThenOldestEventsAndSendsTheRestOnReconnect() async throws {
        let server = try RedisTestServer.start()
        server.kill()
        var settings = fastSettings
        settings.publishQueueLimit = 100
        let node = try BusNode(server, settings: settings)
        for n in 0..<130 {
            node.bus.publish([BusEvent(topic: .chat("c"), frame: bytes("\(n)"), ephemeral: n % 13 == 0)])
        }
        // 130 events, 10 of them ephemeral: the 30 over the limit are the 10 ephemeral and the 20 oldest others.
        #expect(node.bus.stats.dropped == 30)
        try server.restart()
        #expect(await eventually { node.bus.stats.published == 100 })
        #expect(node.bus.stats.dropped == 30)
    }

    @Test func recoversFromRedisRestartsReportingEachOutageOnce() async throws {
        let server = try RedisTestServer.start()
        let a = try BusNode(server, name: "a"), b = try BusNode(server, name: "b")
        a.bus.setInterest(.user("leo"), true)
        b.bus.setInterest(.chat("c1"), true)
        b.bus.setInterest(.user("maya"), true)
        #expect(await waitHealthy(a, b))
        #expect(await server.waitForSubscribers("sg:c:c1", 1))
        let before = BusEvent(topic: .chat("c1"), frame: bytes("before"))
        a.bus.publish([before])
        #expect(await eventually { b.events == [before] })
        #expect(a.sink.interruptions == 0 && b.sink.interruptions == 0)

        var expected = [before]
        for outage in 1...2 {
            server.kill()
            #expect(await waitHealthy(a, b, is: false), "outage \(outage): both buses notice")
            try await Task.sleep(nanoseconds: 300_000_000)  // several failed reconnects
            try server.restart()
            #expect(await waitHealthy(a, b), "outage \(outage): both buses recover")
            // Healthy means resubscribed: Redis has the node's channels again.
            #expect(try server.subscriberCount("sg:c:c1") == 1)
            #expect(try server.subscriberCount("sg:u:maya") == 1)
            #expect(try server.subscriberCount("sg:u:leo") == 1)
            #expect(a.sink.interruptions == outage && b.sink.interruptions == outage)

            let after = [BusEvent(topic: .chat("c1"), frame: bytes("after \(outage)")),
                         BusEvent(topic: .user("maya"), frame: awkwardFrame, ephemeral: true)]
            a.bus.publish(after)
            expected += after
            #expect(await eventually { b.events.count >= expected.count })
            #expect(b.events == expected)
        }
        try await Task.sleep(nanoseconds: 1_000_000_000)  // five ping intervals: no late or repeated report
        #expect(a.sink.interruptions == 2)
        #expect(b.sink.interruptions == 2)
        #expect(b.bus.stats.interruptions == 2)
    }

    @Test func redisDownAtStartupIsAnOutageOnlyForNodesWithInterest() async throws {
        let server = try RedisTestServer.start()
        server.kill()
        let withSessions = try BusNode(server, name: "with"), idle = try BusNode(server, name: "idle")
        withSessions.bus.setInterest(.chat("c1"), true)
        try await Task.sleep(nanoseconds: 300_000_000)  // several failed connects
        #expect(!withSessions.bus.isHealthy() && !idle.bus.isHealthy())
        try server.restart()
        #expect(await waitHealthy(withSessions, idle))
        #expect(try server.subscriberCount("sg:c:c1") == 1)
        try await Task.sleep(nanoseconds: 500_000_000)
        #expect(withSessions.sink.interruptions == 1, "its sessions may have missed events")
        #expect(idle.sink.interruptions == 0, "no session, nothing missed")
    }

    @Test func firstConnectToARunningRedisIsNoOutage() async throws {
        let server = try RedisTestServer.start()
        let node = try BusNode(server)
        node.bus.setInterest(.chat("c1"), true)  // before the connection is up
        #expect(await waitHealthy(node))
        try await Task.sleep(nanoseconds: 500_000_000)
        #expect(node.sink.interruptions == 0)
    }

    @Test func replacesAConnectionThatStopsAnsweringPings() async throws {
        let server = try RedisTestServer.start()
        let a = try BusNode(server, name: "a"), b = try BusNode(server, name: "b")
        b.bus.setInterest(.chat("c1"), true)
        #expect(await waitHealthy(a, b))
        #expect(await server.waitForSubscribers("sg:c:c1", 1))

        server.pause()  // sockets stay open; nothing answers
        // Timed on its own thread: in full test runs, other tests blocking the
        // cooperative pool delayed this wait by 20 s and more.
        await OwnThreadExecutor.run {
            let paused = Date()
            #expect(await waitHealthy(b, is: false), "missing PONGs mark the subscriber dead")
            let noticed = Date().timeIntervalSince(paused)
            #expect(noticed < fastSettings.deadTimeoutSeconds + fastSettings.pingIntervalSeconds + 5, "noticed after \(noticed) s")
        }
        server.resume()
        #expect(await waitHealthy(a, b))
        #expect(b.sink.interruptions == 1)
        let event = BusEvent(topic: .chat("c1"), frame: bytes("after the hang"))
        a.bus.publish([event])
        #expect(await eventually { b.events.last == event })
    }

    @Test func ignoresMalformedMessagesOnItsChannels() async throws {
        let server = try RedisTestServer.start()
        let a = try BusNode(server, name: "a"), b = try BusNode(server, name: "b")
        b.bus.setInterest(.chat("c1"), true)
        #expect(await server.waitForSubscribers("sg:c:c1", 1))
        let garbage: [[UInt8]] = [
            [], bytes("hello"), bytes("sg1 {}"), bytes("sg2 {}\nframe"), bytes("sg1 {not json\nframe"),
            bytes("sg1 [1,2]\nframe"), bytes("sg1 {\"ephemeral\":\"yes\"}\nframe"), [0xFF, 0x00, 0x0A, 0x0D],
        ]
        for payload in garbage { #expect(try server.publish("sg:c:c1", payload) == 1) }
        // A field added by a later version is not malformed.
        #expect(try server.publish("sg:c:c1", bytes("sg1 {\"added_later\":true}\nfuture")) == 1)
        let valid = BusEvent(topic: .chat("c1"), frame: awkwardFrame)
        a.bus.publish([valid])

        let future = BusEvent(topic: .chat("c1"), frame: bytes("future"))
        #expect(await eventually { b.events.count >= 2 })
        #expect(b.events == [future, valid])
        #expect(b.bus.stats.malformed == garbage.count)
        #expect(b.bus.isHealthy())
    }
}
