import Foundation
import Testing
import SocialTesting

/// Partitions, not only crashes: two gateway nodes, each in a network
/// namespace of its own (`NetworkLab`), share Redis and the MongoDB-wire server
/// in a third. While messages flow, node 1 is cut off from Redis, then from
/// the database, then from its clients, each time for a few seconds and then
/// healed. Nothing acknowledged may be lost, the clients of the cut node must
/// resync or move to the other node and catch up, and `/readyz` must say
/// what is true at every step.
@Suite(.serialized,
       .enabled(if: NetworkLab.unavailableReason == nil,
                "partition tests need network namespaces: \(NetworkLab.unavailableReason ?? "")"),
       .enabled(if: MongoTestServer.canRunOwnProcess, "needs secantusd-py: \(MongoTestServer.installHint)"))
struct PartitionTests {
    init() async throws { try await Fixture.prepare() }

    /// `/readyz` of a node through a forwarded port: status and which backends are not ready.
    static func readyz(_ port: Int) -> (status: Int, notReady: Set<String>)? {
        guard let response = try? RawSocket.http(port: port, path: "/readyz", timeout: 2),
              let json = try? JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any] else { return nil }
        let backends = json["backends"] as? [[String: Any]] ?? []
        return (response.status, Set(backends.filter { $0["ready"] as? Bool != true }.compactMap { $0["name"] as? String }))
    }

    /// Polls until `condition` holds; false when `timeout` passed first.
    static func eventually(_ timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return condition()
    }

    @Test(.timeLimit(.minutes(3)))
    func aNodeCutFromRedisThenTheDatabaseThenItsClientsLosesNothingAcknowledged() throws {
        let began = Date()
        func mark(_ what: String) { print(String(format: "partition test %6.1f s: %@", Date().timeIntervalSince(began), what)) }
        let lab = try NetworkLab(nodes: 2)
        defer { lab.tearDown() }
        let redis = try RedisTestServer.start(port: lab.redisPort, placement: lab.redisPlacement)
        defer { redis.kill() }
        let mongo = try MongoTestServer.start(ownProcess: true, port: lab.mongoPort, placement: lab.mongoPlacement)
        defer { mongo.stop() }
        let flags = ["--jwt-public-keys", Fixture.jwksPath, "--store", mongo.url, "--mongo-database", "partition",
                     "--mongo-write-concern", "1", "--mongo-timeout-ms", "1500", "--bus", lab.redisURL,
                     "--ping-interval", "1", "--idle-timeout", "4", "--presence-ttl", "6"]
        let nodes = try (0..<2).map {
            try GatewayProcess.start(secret: Fixture.secret, arguments: flags, port: lab.clientPorts[$0],
                                     placement: lab.nodePlacement($0))
        }
        defer { for node in nodes { node.kill() } }
        func logs() -> String { nodes.enumerated().map { "node \($0.offset + 1):\n\($0.element.logs.suffix(3000))" }.joined(separator: "\n") }
        #expect(Self.eventually(20) { Self.readyz(lab.probePorts[0])?.status == 200 && Self.readyz(lab.probePorts[1])?.status == 200 },
                "both nodes ready")

        // One group; on each node a member who sends and one who only reads.
        let owner = try Fixture.client(nodes[0], "a-send")
        let chat = try #require((owner.ok("group.create", ["title": "Partition", "open": true], timeout: 20)?["group"]
            as? [String: Any])?["group_id"] as? String)
        for (user, node) in [("a-read", 0), ("b-send", 1), ("b-read", 1)] {
            let member = try Fixture.client(nodes[node], user)
            #expect(member.ok("group.join", ["group_id": chat], timeout: 20) != nil)
            member.close()
        }
        let start = try #require((owner.ok("chats.list", timeout: 20)?["chats"] as? [[String: Any]])?.first?["seq"] as? Int)
        owner.close()
        let ports = lab.clientPorts
        func follower(_ user: String, node: Int, sends: Bool) throws -> ChatFollower {
            try ChatFollower(user: user, token: Fixture.token(user), chat: chat, position: start,
                             ports: node == 0 ? ports : Array(ports.reversed()), node: 0, sends: sends, loop: Fixture.loop)
        }
        let followers = [try follower("a-send", node: 0, sends: true), try follower("a-read", node: 0, sends: false),
                         try follower("b-send", node: 1, sends: true), try follower("b-read", node: 1, sends: false)]
        let (aSend, aRead, bSend, _) = (followers[0], followers[1], followers[2], followers[3])
        for follower in followers { follower.start() }
        Thread.sleep(forTimeInterval: 2)

        // 1. Node 1 loses Redis: not ready (the bus), node 2 stays ready; sends still succeed.
        mark("cutting node 1 from Redis")
        try lab.cut(0, from: .redis)
        #expect(Self.eventually(15) { Self.readyz(lab.probePorts[0])?.notReady.contains("redis_bus") == true },
                "node 1 says its bus is down\n\(logs())")
        #expect(Self.readyz(lab.probePorts[0])?.status == 503)
        #expect(Self.readyz(lab.probePorts[1])?.status == 200, "node 2 is not affected")
        mark("node 1 not ready (redis_bus)")
        let ackedInCut = aSend.acknowledged.count
        Thread.sleep(forTimeInterval: 2)
        #expect(aSend.acknowledged.count > ackedInCut, "node 1 still stores sends without Redis")
        let resyncsBefore = aRead.resyncCount
        mark("healing Redis")
        try lab.heal(0, from: .redis)
        #expect(Self.eventually(20) { Self.readyz(lab.probePorts[0])?.status == 200 }, "node 1 ready again\n\(logs())")
        #expect(Self.eventually(15) { aRead.resyncCount > resyncsBefore }, "node 1's clients are told to resync")

        // 2. Node 1 loses the database: not ready (mongodb); sends through it stop, then resume.
        mark("node 1 ready, its clients resynced; cutting node 1 from MongoDB")
        try lab.cut(0, from: .mongo)
        #expect(Self.eventually(15) { Self.readyz(lab.probePorts[0])?.notReady.contains("mongodb") == true },
                "node 1 says its database is unreachable\n\(logs())")
        #expect(Self.readyz(lab.probePorts[1])?.status == 200, "node 2 is not affected")
        Thread.sleep(forTimeInterval: 2)
        mark("node 1 not ready (mongodb); healing")
        try lab.heal(0, from: .mongo)
        let ackedBeforeHeal = aSend.acknowledged.count
        #expect(Self.eventually(30) { Self.readyz(lab.probePorts[0])?.status == 200 }, "node 1 ready again\n\(logs())")
        #expect(Self.eventually(30) { aSend.acknowledged.count > ackedBeforeHeal + 2 }, "sends through node 1 resume")

        // 3. Node 1 loses its clients: they move to node 2 and catch up. Node 1 is
        // ready for what it serves (its probes still reach it), while its clients' path gets no answer.
        mark("node 1 ready, sends through it resumed; cutting node 1 from its clients")
        try lab.cut(0, from: .clients)
        #expect(Self.eventually(25) { aSend.currentNode == 1 && aRead.currentNode == 1 },
                "node 1's clients reconnect to node 2\n\(logs())")
        #expect(Self.readyz(lab.probePorts[0])?.status == 200, "node 1's backends are fine")
        #expect((try? RawSocket.http(port: lab.clientPorts[0], path: "/readyz", timeout: 2)) == nil,
                "no answer on the cut path")
        mark("node 1's clients moved to node 2")
        let ackedOnNode2 = aSend.acknowledged.count
        #expect(Self.eventually(15) { aSend.acknowledged.count > ackedOnNode2 }, "a-send goes on through node 2")
        mark("healing the clients' path")
        try lab.heal(0, from: .clients)
        let late = try ChatFollower(user: "a-late", token: Fixture.token("a-late"), chat: chat, position: 0,
                                    ports: ports, node: 0, sends: false, loop: Fixture.loop)
        let joined = try TestClient.connect(Fixture.loop, port: ports[0], token: Fixture.token("a-late"))
        #expect(joined.ok("group.join", ["group_id": chat], timeout: 20) != nil, "node 1 serves again")
        joined.close()
        late.start()
        let sentBefore = bSend.acknowledged.count
        #expect(Self.eventually(15) { bSend.acknowledged.count > sentBefore + 2 && late.currentPosition > 0 },
                "a client of node 1 follows the chat live again")

        // The end: every follower catches up; nothing acknowledged is lost or doubled; seqs are gap-free.
        mark("node 1 serves a new client; stopping the flow")
        for follower in followers + [late] { follower.stop() }
        for follower in followers + [late] { follower.catchUp() }
        let reader = try Fixture.client(nodes[1], "b-read")
        let history = DistributedFaultTests.history(reader, chat: chat)
        let top = try #require(history.keys.max())
        #expect(Array(history.keys).sorted() == Array(1...top), "gap-free seqs")
        let stored = history.values.compactMap { $0["client_msg_id"] as? String }
        #expect(stored.count == Set(stored).count, "no message stored twice")
        for sender in [aSend, bSend] {
            let lost = Set(sender.acknowledged).subtracting(stored)
            #expect(lost.isEmpty, "\(sender.user): acknowledged but not stored: \(lost.sorted())")
            #expect(sender.acknowledged.count > 10)
        }
        for follower in followers {
            #expect(follower.currentPosition == top, "\(follower.user) caught up")
            #expect(follower.appliedSeqs == Array((start + 1)...top), "\(follower.user) applied each seq once, in order")
        }
        #expect(aSend.reconnections == [1] && aRead.reconnections == [1], "node 1's clients moved once")
        let took = Date().timeIntervalSince(began)
        #expect(took < 150, "the partition test took \(Int(took)) s")
        print("partition test: \(Int(took)) s, \(top) seqs, \(aSend.acknowledged.count + bSend.acknowledged.count) acknowledged sends")
    }
}
