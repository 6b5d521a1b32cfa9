import Foundation
import Testing
import SocialTesting

/// Faults in the distributed mode: Redis restarted, the database stopped, a
/// node killed. Real processes, real sockets.
@Suite(.serialized) struct DistributedFaultTests {
    init() async throws { try await Fixture.prepare() }

    /// Sends `count` messages, one at a time; returns the client ids that were acknowledged.
    static func sendAll(_ client: TestClient, chat: String, prefix: String, count: Int, pause: Double = 0) -> [String] {
        var acked: [String] = []
        for i in 0..<count {
            let id = "\(prefix)-\(i)"
            if client.ok("chat.send", ["chat_id": chat, "text": "lap \(i)", "client_msg_id": id], timeout: 20) != nil {
                acked.append(id)
            }
            if pause > 0 { Thread.sleep(forTimeInterval: pause) }
        }
        return acked
    }

    /// Every message of `chat` by seq, paging `chat.history` from the start.
    static func history(_ client: TestClient, chat: String) -> [Int: [String: Any]] {
        var out: [Int: [String: Any]] = [:]
        var after = 0
        while let page = client.ok("chat.history", ["chat_id": chat, "after": after, "limit": 100], timeout: 20) {
            let messages = page["messages"] as? [[String: Any]] ?? []
            for m in messages { out[m["seq"] as! Int] = m }
            guard page["more"] as? Bool == true, let last = messages.last?["seq"] as? Int else { break }
            after = last
        }
        return out
    }

    @Test func redisRestartedWhileMessagesFlowLosesNothingAndClientsResync() throws {
        let cluster = try Cluster(nodes: 2)
        let alice = try Fixture.client(cluster.nodes[0], "alice")
        let chat = try #require((alice.ok("chat.open_direct", ["user_id": "bob"])?["chat"] as? [String: Any])?["chat_id"] as? String)
        let bob = try Fixture.client(cluster.nodes[1], "bob")
        #expect(alice.ok("chat.send", ["chat_id": chat, "text": "warm-up"]) != nil)
        #expect(bob.event("message.new", timeout: 10) != nil, "events cross nodes before the fault")

        let sender = Thread {
            _ = Self.sendAll(alice, chat: chat, prefix: "flow", count: 60, pause: 0.05)
        }
        sender.start()
        Thread.sleep(forTimeInterval: 1)
        cluster.redis.kill()
        Thread.sleep(forTimeInterval: 1)
        try cluster.redis.restart()
        while !sender.isFinished { Thread.sleep(forTimeInterval: 0.1) }

        // Bob's node lost its subscription for a while: it tells its clients to resync.
        #expect(bob.event("resync", timeout: 15) != nil)
        // History has every message alice sent (all were acknowledged: the store never went away).
        let stored = Self.history(bob, chat: chat)
        let flow = stored.values.compactMap { $0["client_msg_id"] as? String }.filter { $0.hasPrefix("flow-") }
        #expect(flow.count == 60, "every acknowledged message is in history")
        #expect(Array(stored.keys).sorted() == Array(1...stored.count), "gap-free")
        // Bob follows `sync` from what he had seen live and ends with everything.
        var seen = Set(bob.drainEvents("message.new").compactMap { ($0["message"] as? [String: Any])?["seq"] as? Int })
        let result = try #require(bob.ok("sync", ["chats": [["chat_id": chat, "seq": 1]], "limit": 1000], timeout: 20))
        for delta in result["chats"] as? [[String: Any]] ?? [] {
            for change in delta["changes"] as? [[String: Any]] ?? [] { seen.insert(change["seq"] as! Int) }
        }
        #expect(Set(stored.keys).subtracting([1]).isSubset(of: seen), "after sync bob has every message")
        // And live delivery works again.
        #expect(alice.ok("chat.send", ["chat_id": chat, "text": "after the restart"]) != nil)
        #expect(bob.event("message.new", timeout: 10) != nil)
    }

    @Test func aStoppedDatabaseGivesTemporaryErrorsAndRecovers() throws {
        let storage = RepoPaths.temporaryDirectory(prefix: "mongo-data")
        let mongo = try MongoTestServer.start(ownProcess: true, storagePath: storage, durable: true)
        defer { mongo.stop() }
        let redis = try RedisTestServer.start()
        defer { redis.kill() }
        let node = try Fixture.gateway(["--store", mongo.url, "--mongo-database", "faults", "--mongo-write-concern", "1",
                                        "--mongo-timeout-ms", "1500", "--bus", redis.url])
        let alice = try Fixture.client(node, "alice")
        let chat = try #require((alice.ok("chat.open_direct", ["user_id": "bob"], timeout: 20)?["chat"] as? [String: Any])?["chat_id"] as? String)
        #expect(alice.ok("chat.send", ["chat_id": chat, "text": "before"], timeout: 20) != nil)

        mongo.kill()
        let started = Date()
        let failed = try #require(alice.command("chat.send", ["chat_id": chat, "text": "during", "client_msg_id": "d-1"], timeout: 20))
        let error = try #require(failed["error"] as? [String: Any], "no ok while the database is down")
        #expect(error["temporary"] as? Bool == true)
        #expect(error["code"] as? String == "unavailable")
        #expect(Date().timeIntervalSince(started) < 10, "a temporary error within a few seconds")
        #expect(node.isRunning)
        #expect(alice.ok("ping") != nil, "the connection stays up")
        var notReady = false
        for _ in 0..<20 where !notReady {
            notReady = (try? RawSocket.http(port: node.port, path: "/readyz"))?.status == 503
            if !notReady { Thread.sleep(forTimeInterval: 0.25) }
        }
        #expect(notReady, "/readyz reports the database")

        try mongo.restart()
        var retried: [String: Any]?
        for _ in 0..<20 where retried == nil {
            retried = alice.ok("chat.send", ["chat_id": chat, "text": "during", "client_msg_id": "d-1"], timeout: 20)
            if retried == nil { Thread.sleep(forTimeInterval: 0.5) }
        }
        #expect(retried != nil, "sends succeed again once the database is back")
        let history = Self.history(alice, chat: chat)
        #expect(history.values.filter { $0["client_msg_id"] as? String == "d-1" }.count == 1)
        var ready = false
        for _ in 0..<20 where !ready {
            ready = (try? RawSocket.http(port: node.port, path: "/readyz"))?.status == 200
            if !ready { Thread.sleep(forTimeInterval: 0.25) }
        }
        #expect(ready)
    }
}

/// A node killed with SIGKILL: its users go offline for the others within the
/// documented time, and its clients reconnect to another node and sync.
@Suite(.serialized) struct NodeKillTests {
    init() async throws { try await Fixture.prepare() }

    @Test func aKilledNodesUsersGoOfflineAndItsClientsResumeElsewhere() throws {
        // TTL 3 s: offline within TTL + the 2 s sweep (the default 30 s TTL gives about 32 s).
        let cluster = try Cluster(extra: ["--presence-ttl", "3"])
        let alice = try Fixture.client(cluster.nodes[0], "alice")
        let chat = try #require((alice.ok("chat.open_direct", ["user_id": "bob"], timeout: 20)?["chat"] as? [String: Any])?["chat_id"] as? String)
        let bob = try Fixture.client(cluster.nodes[1], "bob")
        #expect(alice.ok("chat.send", ["chat_id": chat, "text": "before", "client_msg_id": "k-0"], timeout: 20) != nil)
        let seen = try #require((bob.event("message.new", timeout: 10)?["message"] as? [String: Any])?["seq"] as? Int)
        let watch = try #require(alice.ok("presence.subscribe", ["user_ids": ["bob"]], timeout: 20))
        #expect((watch["presence"] as? [[String: Any]])?.first?["state"] as? String == "online")

        cluster.nodes[1].kill()
        let killed = Date()
        // Alice keeps writing while bob's node is gone.
        let acked = DistributedFaultTests.sendAll(alice, chat: chat, prefix: "down", count: 10)
        let offline = alice.event("presence", timeout: 15) { ($0["presence"] as? [String: Any])?["state"] as? String == "offline" }
        #expect(offline != nil, "bob goes offline for alice")
        #expect(Date().timeIntervalSince(killed) < 10, "within TTL + sweep (plus slack for a loaded machine)")

        // Bob's phone reconnects (the load balancer picks node C) and syncs from where it was.
        let again = try Fixture.client(cluster.nodes[2], "bob")
        let result = try #require(again.ok("sync", ["chats": [["chat_id": chat, "seq": seen]], "limit": 100], timeout: 20))
        let delta = try #require((result["chats"] as? [[String: Any]])?.first)
        let changes = delta["changes"] as? [[String: Any]] ?? []
        let ids = Set(changes.compactMap { $0["client_msg_id"] as? String })
        #expect(Set(acked).isSubset(of: ids), "every message sent while bob's node was down")
        let seqs = changes.compactMap { $0["seq"] as? Int }
        #expect(seqs == Array((seen + 1)...(seen + seqs.count)), "no gaps")
        #expect(delta["position"] as? Int == seen + seqs.count)
        // Bob is back online for alice.
        #expect(alice.event("presence", timeout: 10) { ($0["presence"] as? [String: Any])?["state"] as? String == "online" } != nil)
    }
}
