import SocialCore
import SocialRedis
import SocialTesting
import Testing

/// What the publisher does with a batch whose connection breaks before Redis answered.
@Suite struct RedisPublisherRetryTests {
    @Test func unacknowledgedDurableEventsAreSentAgainAfterTheReconnectEphemeralOnesDropped() async throws {
        // A "Redis" that reads the PUBLISH commands and hangs; the real one takes its port later.
        let silent = try SilentServer()
        var settings = fastSettings
        settings.deadTimeoutSeconds = 30  // the test, not a timeout, breaks the hung connection
        settings.pingIntervalSeconds = 30
        let a = try BusNode(url: "redis://127.0.0.1:\(silent.port)", settings: settings, name: "a")
        let batch = [BusEvent(topic: .chat("c1"), frame: bytes("one")),
                     BusEvent(topic: .chat("c1"), frame: awkwardFrame),
                     BusEvent(topic: .chat("c1"), frame: bytes("typing"), ephemeral: true),
                     BusEvent(topic: .chat("c1"), frame: bytes("three"))]
        a.bus.publish(batch)
        #expect(silent.read(timeout: 10) { count(of: bytes("$7\r\nPUBLISH\r\n"), in: $0) == batch.count },
                "the batch was sent in one pipeline")

        silent.stopListening()
        let server = try RedisTestServer.start(port: silent.port)
        let b = try BusNode(server, name: "b")
        b.bus.setInterest(.chat("c1"), true)
        #expect(await server.waitForSubscribers("sg:c:c1", 1))
        silent.closeConnections()  // the publisher's read fails: no PUBLISH was acknowledged

        let durable = batch.filter { !$0.ephemeral }
        #expect(await eventually { b.events.count >= durable.count })
        #expect(b.events == durable)
        #expect(await eventually { a.bus.stats.published == durable.count }, "Redis acknowledged them once")
        #expect(a.bus.stats.dropped == 1)
        #expect(await waitHealthy(a))
    }
}

private func count(of needle: [UInt8], in haystack: [UInt8]) -> Int {
    guard haystack.count >= needle.count else { return 0 }
    return (0...(haystack.count - needle.count)).filter { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }.count
}
