import Foundation
import SocialCore
import SocialRedis
import SocialTesting
import Testing

/// No silent holes: a node hears of every event it missed, before the first
/// event that follows the hole.
@Suite struct RedisBusLossTests {
    /// Timings that let Redis hang for a while without anyone declaring it dead.
    static let patient = RedisBus.Settings(pingIntervalSeconds: 30, deadTimeoutSeconds: 30, connectTimeoutSeconds: 0.5,
                                           reconnectInitialSeconds: 0.05, reconnectMaxSeconds: 0.3)

    @Test func aPublisherThatDropsEventsAnnouncesTheirTopicsBeforeWhatFollows() async throws {
        let server = try RedisTestServer.start()
        var small = Self.patient
        small.publishQueueLimit = 50
        let a = try BusNode(server, settings: small, name: "a")
        let b = try BusNode(server, settings: Self.patient, name: "b")
        let c = try BusNode(server, settings: Self.patient, name: "c")
        b.bus.setInterest(.chat("c1"), true)
        b.bus.setInterest(.chat("c2"), true)
        c.bus.setInterest(.chat("c2"), true)
        #expect(await waitHealthy(a, b, c))
        #expect(await server.waitForSubscribers("sg:c:c1", 1))
        #expect(await server.waitForSubscribers("sg:c:c2", 2))
        #expect(await server.waitForSubscribers("sg:x", 3), "every node listens on the control channel")

        func event(_ chat: String, _ n: Int) -> BusEvent { BusEvent(topic: .chat(chat), frame: bytes("\(chat)-\(n)"), position: Int64(n)) }
        a.bus.publish([event("c1", 0)])
        #expect(await eventually { b.events.count == 1 })

        server.pause()  // Redis hangs; nobody's dead timeout runs out
        a.bus.publish([event("c1", 1)])  // taken by the publisher, stuck waiting for its reply
        try await Task.sleep(nanoseconds: 200_000_000)
        // 150 + 40 + 10 events into a queue of 50: the 150 of c1 are dropped, the newest 50 kept.
        for n in 2...151 { a.bus.publish([event("c1", n)]) }
        for n in 1...40 { a.bus.publish([event("c2", n)]) }
        for n in 152...161 { a.bus.publish([event("c1", n)]) }
        #expect(a.bus.stats.dropped == 150)
        server.resume()

        #expect(await eventually { b.events.count == 2 + 40 + 10 })
        #expect(b.sink.lostTopics == [[.chat("c1")]], "b follows c1: told once, of c1 only")
        #expect(b.sink.interruptions == 0, "no outage")
        let log = b.sink.log
        let lost = try #require(log.firstIndex(of: .lost([.chat("c1")])))
        let firstAfterHole = try #require(log.firstIndex { entry in
            if case .events(let events) = entry { return events.contains(event("c1", 152)) }
            return false
        })
        #expect(lost < firstAfterHole, "the loss is heard before the first event after the hole")
        #expect(b.events.filter { $0.topic == .chat("c1") }.map(\.position) == [0, 1] + (152...161).map { Int64($0) })
        #expect(await eventually { c.events.count == 40 })
        #expect(c.sink.lostTopics.isEmpty, "c follows only c2, which lost nothing")
        #expect(a.bus.stats.lossesAnnounced == 1)
        #expect(b.bus.stats.lossesHeard == 1)
    }

    /// Events keep coming while Redis is killed and restarted: whatever the
    /// subscriber reads on its new connection, even before the PONG that
    /// proves its subscriptions, reaches the sink after the interruption.
    @Test func anOutageIsReportedBeforeAnyEventReadAfterIt() async throws {
        let server = try RedisTestServer.start()
        var settings = fastSettings
        settings.publishQueueLimit = 1_000_000
        let a = try BusNode(server, settings: settings, name: "a"), b = try BusNode(server, name: "b")
        b.bus.setInterest(.chat("c1"), true)
        #expect(await waitHealthy(a, b))
        #expect(await server.waitForSubscribers("sg:c:c1", 1))
        let publishing = Task.detached {
            var n: Int64 = 0
            while !Task.isCancelled {
                n += 1
                a.bus.publish([BusEvent(topic: .chat("c1"), frame: bytes("\(n)"), position: n)])
                try? await Task.sleep(nanoseconds: 200_000)
            }
        }
        try await Task.sleep(nanoseconds: 300_000_000)
        server.kill()
        try await Task.sleep(nanoseconds: 300_000_000)
        try server.restart()
        #expect(await waitHealthy(a, b))
        // Until events flow again (300 ms on a quiet machine; up to 10 s under a sanitizer).
        for _ in 0..<100 {
            try await Task.sleep(nanoseconds: 100_000_000)
            let log = b.sink.log
            if let cut = log.firstIndex(of: .interrupted), log[(cut + 1)...].contains(where: {
                if case .events = $0 { return true } else { return false }
            }) { break }
        }
        publishing.cancel()
        let log = b.sink.log
        let interrupted = try #require(log.firstIndex(of: .interrupted))
        var last: Int64 = 0
        for entry in log[..<interrupted] {
            guard case .events(let events) = entry else { continue }
            for event in events {
                #expect(event.position == last + 1, "before the outage: in order, no hole")
                last = event.position ?? last
            }
        }
        let after = log[(interrupted + 1)...].flatMap { entry -> [BusEvent] in
            if case .events(let events) = entry { return events }
            return []
        }
        #expect(!after.isEmpty, "events flow again")
        #expect(after.allSatisfy { ($0.position ?? 0) > last })
        #expect(b.sink.interruptions == 1)
    }
}
