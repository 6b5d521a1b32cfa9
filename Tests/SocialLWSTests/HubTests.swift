import SocialCore
import Testing
@testable import SocialLWS

@Suite struct HubTests {
    func change(_ topic: Topic, _ on: Bool) -> Hub.InterestChange { .init(topic: topic, interested: on) }

    @Test func interestFollowsTheFirstAndLastSession() {
        var hub = Hub()
        #expect(hub.addSession(1, user: "alice") == [change(.user("alice"), true)])
        #expect(hub.addSession(2, user: "alice") == [])
        #expect(hub.subscribe(1, to: .chat("c1")) == [change(.chat("c1"), true)])
        #expect(hub.subscribe(2, to: .chat("c1")) == [])
        #expect(hub.subscribe(2, to: .chat("c1")) == [], "subscribing twice changes nothing")
        #expect(hub.subscribe(2, to: .presence("bob")) == [change(.presence("bob"), true)])
        #expect(hub.sessions(of: .chat("c1")) == [1, 2])
        #expect(hub.sessions(of: .user("alice")) == [1, 2])
        #expect(hub.removeSession(1, user: "alice", topics: [.chat("c1")]) == [])
        #expect(Set(hub.removeSession(2, user: "alice", topics: [.chat("c1"), .presence("bob")]))
                == [change(.chat("c1"), false), change(.presence("bob"), false), change(.user("alice"), false)])
        #expect(hub.sessions(of: .chat("c1")).isEmpty)
        #expect(hub.sessions(of: .presence("bob")).isEmpty)
        #expect(hub.sessions(of: .user("alice")).isEmpty)
    }

    @Test func unsubscribingATopicTheSessionNeverHadIsANoOp() {
        var hub = Hub()
        _ = hub.addSession(1, user: "bob")
        #expect(hub.unsubscribe(1, from: .chat("nope")) == [])
        #expect(hub.subscribe(1, to: .chat("c")) == [change(.chat("c"), true)])
        #expect(hub.unsubscribe(1, from: .chat("c")) == [change(.chat("c"), false)])
    }
}
