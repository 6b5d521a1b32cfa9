import SocialCore
import Testing
@testable import SocialRedis

/// The publish time (`ts`) the publisher adds as the header's last key, for the bus lag metric.
@Suite struct BusWireStampTests {
    static let ts: Int64 = 1_764_043_200_123_456

    @Test(arguments: [
        BusEvent(topic: .chat("g_1"), frame: BusWireTests.awkwardFrame),
        BusEvent(topic: .chat("g_1"), frame: Array("typing".utf8), ephemeral: true),
        BusEvent(topic: .user("alice"), frame: [], subscription: .init(chat: "g \"1\"\n", joined: true)),
        BusEvent(topic: .user("bob"), frame: BusWireTests.awkwardFrame, ephemeral: true,
                 subscription: .init(chat: "d_2", joined: false)),
        BusEvent(topic: .chat("g_1"), frame: BusWireTests.awkwardFrame, position: 42),
        BusEvent(topic: .chat("g_1"), frame: [], ephemeral: true, position: 9_000_000_000),
    ])
    func roundTripsWithItsPublishTime(_ event: BusEvent) throws {
        let message = BusWire.header(of: event, publishedAtMicros: Self.ts) + event.frame
        let (decoded, ts) = try BusWire.decodeStamped(message, topic: event.topic)
        #expect(decoded == event)
        #expect(ts == Self.ts)
        // Readers that only want the event read it the same.
        #expect(try BusWire.decode(message, topic: event.topic) == event)
    }

    @Test func putsTheTimeLastInTheHeader() {
        let plain = BusWire.header(of: BusEvent(topic: .chat("c"), frame: []), publishedAtMicros: 7)
        #expect(String(decoding: plain, as: UTF8.self) == "sg1 {\"ts\":7}\n")
        let positioned = BusWire.header(of: BusEvent(topic: .chat("c"), frame: [], position: 42), publishedAtMicros: 7)
        #expect(String(decoding: positioned, as: UTF8.self) == "sg1 {\"position\":42,\"ts\":7}\n")
    }

    @Test func messagesWithoutATimeHaveNone() throws {
        let event = BusEvent(topic: .chat("c"), frame: Array("x".utf8), position: 3)
        let (decoded, ts) = try BusWire.decodeStamped(BusWire.encode(event), topic: .chat("c"))
        #expect(decoded == event)
        #expect(ts == nil)
    }

    @Test func aTimeThatIsNotTheLastKeyOrNotANumberIsNotRead() throws {
        let inside = try BusWire.decodeStamped(Array("sg1 {\"ts\":5,\"position\":3}\nx".utf8), topic: .chat("c"))
        #expect(inside.event.position == 3)
        #expect(inside.publishedAtMicros == nil)
        let text = try BusWire.decodeStamped(Array("sg1 {\"ephemeral\":true,\"ts\":\"5\"}\nx".utf8), topic: .chat("c"))
        #expect(text.event.ephemeral)
        #expect(text.publishedAtMicros == nil)
    }
}
