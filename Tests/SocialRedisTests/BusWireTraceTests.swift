import Foundation
import SocialCore
import SocialProtocol
import Testing
@testable import SocialRedis

/// The trace an event carries across nodes: the header's `traceparent` key,
/// written before `ts` and read back without the JSON decoder in the usual
/// cases; headers without it (older nodes) read as before.
@Suite struct BusWireTraceTests {
    static let trace = TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")!

    @Test(arguments: [
        BusEvent(topic: .chat("g_1"), frame: BusWireTests.awkwardFrame, trace: trace),
        BusEvent(topic: .chat("g_1"), frame: BusWireTests.awkwardFrame, position: 42, trace: trace),
        BusEvent(topic: .chat("g_1"), frame: Array("typing".utf8), ephemeral: true, trace: trace),
        BusEvent(topic: .user("alice"), frame: [], subscription: .init(chat: "g \"1\"\n", joined: true), position: 3,
                 trace: trace),
        BusEvent(topic: .user("alice"), frame: [], disconnect: "bye", trace: trace),
        BusEvent(topic: .chat("g_1"), frame: [], ephemeral: true, position: 9_000_000_000, trace: trace),
    ])
    func roundTripsWithAndWithoutThePublishTime(_ event: BusEvent) throws {
        #expect(try BusWire.decode(BusWire.encode(event), topic: event.topic) == event)
        let stamped = BusWire.header(of: event, publishedAtMicros: 1_764_043_200_123_456) + event.frame
        let (decoded, ts) = try BusWire.decodeStamped(stamped, topic: event.topic)
        #expect(decoded == event)
        #expect(ts == 1_764_043_200_123_456)
    }

    @Test func writesTheTraceBeforeTheTime() {
        let header = BusWire.header(of: BusEvent(topic: .chat("c"), frame: [], position: 42, trace: Self.trace),
                                    publishedAtMicros: 7)
        #expect(String(decoding: header, as: UTF8.self)
                == "sg1 {\"position\":42,\"traceparent\":\"\(Self.trace.traceparent)\",\"ts\":7}\n")
        let alone = BusWire.encode(BusEvent(topic: .chat("c"), frame: Array("f".utf8), trace: Self.trace))
        #expect(String(decoding: alone, as: UTF8.self) == "sg1 {\"traceparent\":\"\(Self.trace.traceparent)\"}\nf")
    }

    @Test func readsATraceWrittenElsewhereInTheHeaderThroughTheDecoder() throws {
        let text = "sg1 {\"traceparent\":\"\(Self.trace.traceparent)\",\"position\":5,\"ts\":9}\nf"
        let (event, ts) = try BusWire.decodeStamped(Array(text.utf8), topic: .chat("c"))
        #expect(event == BusEvent(topic: .chat("c"), frame: Array("f".utf8), position: 5, trace: Self.trace))
        #expect(ts == 9)
    }

    @Test func aHeaderWithoutATraceOrWithABadOneStillReads() throws {
        // What a node that predates traces writes.
        let old = try BusWire.decode(Array("sg1 {\"position\":5,\"ts\":9}\nf".utf8), topic: .chat("c"))
        #expect(old == BusEvent(topic: .chat("c"), frame: Array("f".utf8), position: 5))
        let bad = try BusWire.decode(Array("sg1 {\"position\":5,\"traceparent\":\"00-zz\"}\nf".utf8), topic: .chat("c"))
        #expect(bad == BusEvent(topic: .chat("c"), frame: Array("f".utf8), position: 5))
    }

    /// A node that predates traces reads a traced header as it read every
    /// header it did not write itself: the JSON decoder, which ignores keys it
    /// does not know. Shown here with the same decoder on the same header.
    @Test func anOlderReaderIgnoresTheKey() throws {
        struct OldHeader: Decodable {
            var ephemeral: Bool?
            var position: Int64?
        }
        let header = BusWire.header(of: BusEvent(topic: .chat("c"), frame: [], position: 42, trace: Self.trace),
                                    publishedAtMicros: 7)
        let json = header.dropFirst(BusWire.marker.count).dropLast()
        let old = try JSONDecoder().decode(OldHeader.self, from: Data(json))
        #expect(old.position == 42 && old.ephemeral == nil)
    }
}
