import Foundation
import Testing
import SocialTesting

/// Many nodes behave as one: three gateway processes, one Redis, one
/// MongoDB-wire server, real sockets. The MongoDB-wire server is slow: these
/// tests prove correctness only.
@Suite(.serialized) struct DistributedTests {
    init() async throws { try await Fixture.prepare() }

    @Test func membersOnDifferentNodesExchangeMessagesTypingAndPresence() throws {
        let cluster = try Cluster(extra: ["--typing-interval-ms", "0"])
        let (a, b, c) = (cluster.nodes[0], cluster.nodes[1], cluster.nodes[2])
        let alice = try Fixture.client(a, "alice")
        let bob = try Fixture.client(b, "bob")
        let bobTablet = try Fixture.client(c, "bob", device: "tablet")
        let group = try #require((alice.ok("group.create", ["title": "Relay team", "open": true])?["group"] as? [String: Any])?["group_id"] as? String)
        #expect(bob.ok("group.join", ["group_id": group]) != nil)
        #expect(bobTablet.event("chat.added") != nil, "bob's device on node C learns of the join made on node B")

        let sent = try #require(alice.ok("chat.send", ["chat_id": group, "text": "leg 1 done", "client_msg_id": "x1"]))
        let seq = try #require((sent["message"] as? [String: Any])?["seq"] as? Int)
        #expect(bob.event("message.new") { ($0["message"] as? [String: Any])?["seq"] as? Int == seq } != nil)
        #expect(bobTablet.event("message.new") { ($0["message"] as? [String: Any])?["seq"] as? Int == seq } != nil)

        #expect(bob.ok("chat.typing", ["chat_id": group]) != nil)
        #expect(alice.event("typing") { $0["user_id"] as? String == "bob" } != nil)

        // Presence crosses nodes: alice (node A) watches bob; bob's tablet (node C) starts training.
        let watch = try #require(alice.ok("presence.subscribe", ["user_ids": ["bob"]]))
        #expect(((watch["presence"] as? [[String: Any]])?.first?["state"] as? String) == "online")
        #expect(bobTablet.ok("presence.set", ["state": "training", "activity": "ride"]) != nil)
        let training = alice.event("presence")?["presence"] as? [String: Any]
        #expect(training?["state"] as? String == "training")
        #expect(training?["activity"] as? String == "ride")
    }

    @Test func twoNodesSendingIntoOneChatProduceAGapFreeSequence() throws {
        let cluster = try Cluster(nodes: 2)
        let owner = try Fixture.client(cluster.nodes[0], "alice")
        let group = try #require((owner.ok("group.create", ["title": "Sprint", "open": true])?["group"] as? [String: Any])?["group_id"] as? String)
        let writers = try [(0, "alice"), (1, "bob"), (0, "carol"), (1, "dave")].map { node, user in
            let client = try Fixture.client(cluster.nodes[node], user, device: "w")
            if user != "alice" { _ = client.ok("group.join", ["group_id": group]) }
            return client
        }
        let lock = NSLock()
        nonisolated(unsafe) var seqs: [Int] = []  // guarded by `lock`
        DispatchQueue.concurrentPerform(iterations: writers.count) { w in
            for i in 0..<15 {
                let reply = writers[w].ok("chat.send", ["chat_id": group, "text": "\(w)-\(i)", "client_msg_id": "\(w)-\(i)"], timeout: 30)
                if let seq = (reply?["message"] as? [String: Any])?["seq"] as? Int {
                    lock.lock(); seqs.append(seq); lock.unlock()
                }
            }
        }
        #expect(seqs.count == 60, "every send acknowledged")
        #expect(Set(seqs).count == seqs.count, "no seq given twice")
        let history = try #require(owner.ok("chat.history", ["chat_id": group, "limit": 100])?["messages"] as? [[String: Any]])
        let all = history.compactMap { $0["seq"] as? Int }
        #expect(all == Array(1...all.count), "gap-free: the created message, 3 joins and 60 sends")
        #expect(all.count == 64)
    }

    @Test func aRetriedSendThroughAnotherNodeIsStoredOnce() throws {
        let cluster = try Cluster(nodes: 2)
        let phone = try Fixture.client(cluster.nodes[0], "alice")
        let chat = try #require((phone.ok("chat.open_direct", ["user_id": "bob"])?["chat"] as? [String: Any])?["chat_id"] as? String)
        let bob = try Fixture.client(cluster.nodes[1], "bob")
        let first = try #require(phone.ok("chat.send", ["chat_id": chat, "text": "long run sunday?", "client_msg_id": "r-1"], timeout: 30))
        // The load balancer sends the reconnected phone to the other node, which gets the retry.
        let again = try Fixture.client(cluster.nodes[1], "alice")
        let retry = try #require(again.ok("chat.send", ["chat_id": chat, "text": "long run sunday?", "client_msg_id": "r-1"], timeout: 30))
        #expect(retry["duplicate"] as? Bool == true)
        #expect((retry["message"] as? [String: Any])?["seq"] as? Int == (first["message"] as? [String: Any])?["seq"] as? Int)
        let history = try #require(bob.ok("chat.history", ["chat_id": chat])?["messages"] as? [[String: Any]])
        #expect(history.filter { $0["client_msg_id"] as? String == "r-1" }.count == 1)
        Thread.sleep(forTimeInterval: 0.5)
        #expect(bob.drainEvents("message.new").count == 1, "delivered once")
    }
}

/// The same through nginx in front of the nodes, with the README's configuration.
@Suite(.serialized) struct NginxFrontTests {
    init() async throws { try await Fixture.prepare() }

    @Test func clientsThroughNginxReachEachOtherAcrossNodesAndSurviveADrain() throws {
        let cluster = try Cluster(extra: ["--drain-timeout", "2"])
        let nginx = try NginxProxy(nodes: cluster.nodes)
        // Through the proxy: health, and WebSockets spread over the nodes.
        #expect(try RawSocket.http(port: nginx.port, path: "/healthz").status == 200)
        let alice = try TestClient.connect(Fixture.loop, port: nginx.port, token: Fixture.token("alice"))
        let bob = try TestClient.connect(Fixture.loop, port: nginx.port, token: Fixture.token("bob"))
        let carol = try TestClient.connect(Fixture.loop, port: nginx.port, token: Fixture.token("carol"))
        let sessions = [alice, bob, carol].compactMap { $0.event("hello")?["session_id"] as? String }
        #expect(Set(sessions.map { $0.split(separator: "-").first ?? "" }).count >= 2, "least_conn spreads connections over nodes")

        let group = try #require((alice.ok("group.create", ["title": "Track club", "open": true], timeout: 20)?["group"] as? [String: Any])?["group_id"] as? String)
        #expect(bob.ok("group.join", ["group_id": group], timeout: 20) != nil)
        #expect(carol.ok("group.join", ["group_id": group], timeout: 20) != nil)
        let sent = try #require(alice.ok("chat.send", ["chat_id": group, "text": "400s at 7", "client_msg_id": "n-1"], timeout: 20))
        let seq = (sent["message"] as? [String: Any])?["seq"] as? Int
        for client in [bob, carol] {
            #expect(client.event("message.new") { ($0["message"] as? [String: Any])?["seq"] as? Int == seq } != nil)
        }
        // A node drains: its clients get 1001, reconnect through nginx, and catch up with sync.
        let drained = cluster.nodes[0]
        drained.stop(signal: SIGTERM)
        let survivor = [alice, bob, carol].first { !$0.isClosed && $0.waitClosed(timeout: 0.1) == nil } ?? bob
        #expect(survivor.ok("chat.send", ["chat_id": group, "text": "still running", "client_msg_id": "n-2"], timeout: 20) != nil)
        let phone = try TestClient.connect(Fixture.loop, port: nginx.port, token: Fixture.token("dave"))
        #expect(phone.event("hello") != nil, "nginx sends new connections to the nodes still up")
        let back = try TestClient.connect(Fixture.loop, port: nginx.port, token: Fixture.token("alice"), query: "?device_id=again")
        let result = try #require(back.ok("sync", ["chats": [["chat_id": group, "seq": seq ?? 0]]], timeout: 20))
        let changes = (result["chats"] as? [[String: Any]])?.first?["changes"] as? [[String: Any]] ?? []
        #expect(changes.contains { $0["client_msg_id"] as? String == "n-2" }, "the reconnected client catches up")
    }
}
