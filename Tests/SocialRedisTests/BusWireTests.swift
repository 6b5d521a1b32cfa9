import SocialCore
import Testing
@testable import SocialRedis

@Suite struct BusWireTests {
    /// A frame with non-ASCII text, newlines, a NUL and bytes that are not UTF-8.
    static let awkwardFrame: [UInt8] = Array("{\"event\":\"message.new\",\"data\":{\"text\":\"Très bien 🏃‍♀️\nline 2\"}}\n".utf8)
        + [0, 0xFF, 0xFE, 0x0A, 0x0D]

    @Test func namesChannelsByTopicAndPrefix() {
        #expect(BusWire.channel(.chat("g_1"), prefix: "sg") == "sg:c:g_1")
        #expect(BusWire.channel(.user("alice"), prefix: "sg") == "sg:u:alice")
        #expect(BusWire.channel(.user("alice"), prefix: "staging") == "staging:u:alice")
        #expect(BusWire.channel(.presence("alice"), prefix: "sg") == "sg:p:alice")
    }

    @Test(arguments: [
        BusEvent(topic: .chat("g_1"), frame: awkwardFrame),
        BusEvent(topic: .chat("g_1"), frame: Array("typing".utf8), ephemeral: true),
        BusEvent(topic: .user("alice"), frame: [], subscription: .init(chat: "g \"1\"\n", joined: true)),
        BusEvent(topic: .user("bob"), frame: awkwardFrame, ephemeral: true, subscription: .init(chat: "d_2", joined: false)),
        BusEvent(topic: .chat("é"), frame: []),
        BusEvent(topic: .chat("g_1"), frame: awkwardFrame, position: 42),
        BusEvent(topic: .chat("g_1"), frame: [], ephemeral: true, position: 9_000_000_000),
        BusEvent(topic: .presence("alice"), frame: Array("p".utf8), ephemeral: true),
        BusEvent(topic: .user("alice"), frame: [], disconnect: "account \"suspended\"\n"),
    ])
    func roundTripsEveryField(_ event: BusEvent) throws {
        let message = BusWire.encode(event)
        #expect(try BusWire.decode(message, topic: event.topic) == event)
    }

    @Test func headerIsOneVersionedLineOfJSON() {
        let plain = BusWire.encode(BusEvent(topic: .chat("c"), frame: Array("x\ny".utf8)))
        #expect(String(decoding: plain, as: UTF8.self) == "sg1 {}\nx\ny")
        let ephemeral = BusWire.encode(BusEvent(topic: .chat("c"), frame: [], ephemeral: true))
        #expect(String(decoding: ephemeral, as: UTF8.self) == "sg1 {\"ephemeral\":true}\n")
        let joined = BusWire.encode(BusEvent(topic: .user("u"), frame: [], subscription: .init(chat: "g/1\n", joined: true)))
        #expect(String(decoding: joined, as: UTF8.self) == "sg1 {\"subscription\":{\"chat\":\"g/1\\n\",\"joined\":true}}\n")
        let disconnect = BusWire.encode(BusEvent(topic: .user("u"), frame: [], disconnect: "bye"))
        #expect(String(decoding: disconnect, as: UTF8.self) == "sg1 {\"disconnect\":\"bye\"}\n")
        let positioned = BusWire.encode(BusEvent(topic: .chat("c"), frame: Array("f".utf8), position: 17))
        #expect(String(decoding: positioned, as: UTF8.self) == "sg1 {\"position\":17}\nf")
    }

    @Test func ignoresUnknownHeaderFields() throws {
        let event = try BusWire.decode(Array("sg1 {\"added_later\":[1,2],\"ephemeral\":true}\nabc".utf8), topic: .chat("c"))
        #expect(event == BusEvent(topic: .chat("c"), frame: Array("abc".utf8), ephemeral: true))
    }

    @Test(arguments: [
        "", "garbage", "sg1 {}", "sg1{}\nx", "sg2 {}\nx", "SG1 {}\nx", "sg1 {\nx", "sg1 [1]\nx",
        "sg1 {\"ephemeral\":\"yes\"}\nx", "sg1 {\"subscription\":{\"chat\":1,\"joined\":true}}\nx",
        "sg1 {\"subscription\":{\"chat\":\"c\"}}\nx", "sg1 \nx",
    ])
    func refusesMalformedMessages(_ text: String) {
        #expect(throws: BusWire.WireError.self) { try BusWire.decode(Array(text.utf8), topic: .chat("c")) }
    }
}
