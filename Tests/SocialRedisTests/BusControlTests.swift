import SocialCore
import Testing
@testable import SocialRedis

/// The control channel's loss announcements.
@Suite struct BusControlTests {
    @Test func roundTripsALossOfTopics() throws {
        var loss = BusLoss()
        for topic: Topic in [.chat("g_1"), .user("alice:x"), .presence("bob"), .chat("é \"q\"\n")] { loss.add(topic) }
        let message = BusControl.encode(loss)
        #expect(String(decoding: message, as: UTF8.self).hasPrefix("sg1 {\"lost\":["))
        #expect(message.last == UInt8(ascii: "\n"))
        #expect(try BusControl.decode(message) == loss)
    }

    @Test func roundTripsALossOfEverything() throws {
        #expect(String(decoding: BusControl.encode(.everything), as: UTF8.self) == "sg1 {\"lost_all\":true}\n")
        #expect(try BusControl.decode(BusControl.encode(.everything)) == .everything)
    }

    @Test func tooManyTopicsBecomeEverything() {
        var loss = BusLoss()
        for n in 0...BusLoss.topicLimit { loss.add(.chat("c\(n)")) }
        #expect(loss == .everything)
        var other = BusLoss()
        other.add(.chat("c"))
        other.merge(loss)
        #expect(other.all)
    }

    @Test func ignoresWhatALaterVersionMayAdd() throws {
        #expect(try BusControl.decode(Array("sg1 {\"drain\":\"node-3\"}\n".utf8)) == nil)
        let loss = try BusControl.decode(Array("sg1 {\"lost\":[\"c:g_1\",\"z:what\",\"x\"],\"by\":\"n1\"}\n".utf8))
        #expect(loss?.topics == [.chat("g_1")])
    }

    @Test func refusesWhatIsNotTheBusFormat() {
        for bad in ["", "hello", "sg2 {}", "sg1 [1]", "sg1 {\"lost\":\"all\"}"] {
            #expect(throws: (any Error).self, "\(bad)") { try BusControl.decode(Array(bad.utf8)) }
        }
    }
}
