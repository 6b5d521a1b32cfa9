import Testing
@testable import SocialLWS

@Suite struct HubTests {
    @Test func interestFollowsTheFirstAndLastSession() {
        var hub = Hub()
        #expect(hub.addSession(1, user: "alice") == [.user("alice", true)])
        #expect(hub.addSession(2, user: "alice") == [])
        #expect(hub.subscribe(1, to: "c1") == [.chat("c1", true)])
        #expect(hub.subscribe(2, to: "c1") == [])
        #expect(hub.subscribe(2, to: "c1") == [], "subscribing twice changes nothing")
        #expect(hub.sessions(ofChat: "c1") == [1, 2])
        #expect(hub.removeSession(1, user: "alice", chats: ["c1"]) == [])
        #expect(hub.removeSession(2, user: "alice", chats: ["c1"]) == [.chat("c1", false), .user("alice", false)])
        #expect(hub.sessions(ofChat: "c1").isEmpty)
        #expect(hub.sessions(ofUser: "alice").isEmpty)
    }

    @Test func unsubscribingAChatTheSessionNeverHadIsANoOp() {
        var hub = Hub()
        _ = hub.addSession(1, user: "bob")
        #expect(hub.unsubscribe(1, from: "nope") == [])
        #expect(hub.subscribe(1, to: "c") == [.chat("c", true)])
        #expect(hub.unsubscribe(1, from: "c") == [.chat("c", false)])
    }
}
