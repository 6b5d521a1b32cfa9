import Foundation
import SocialRedis
import SocialTesting
import Testing

/// Issue 14: three gateway nodes over a bus of three `redis-server` shards and
/// one MongoDB-wire server. Messages, presence and notifications cross nodes
/// whatever shard their chats and users live on; a shard killed while
/// messages flow cuts off only its own chats and users.
@Suite(.serialized) struct ShardedClusterTests {
    init() async throws { try await Fixture.prepare() }

    static let map = ShardMap(count: 3)

    /// `count` user ids that live on `shard`.
    static func users(on shard: Int, _ count: Int, prefix: String) -> [String] {
        Array((0...).lazy.map { "\(prefix)\($0)" }.filter { map.shard(of: $0) == shard }.prefix(count))
    }

    /// A new open group owned by `owner`, whose chat lives on `shard` (groups are made until one lands there).
    static func group(on shard: Int, by owner: TestClient) throws -> String {
        for _ in 0..<40 {
            let id = try #require((owner.ok("group.create", ["title": "Shard \(shard)", "open": true], timeout: 20)?["group"]
                as? [String: Any])?["group_id"] as? String)
            if map.shard(of: id) == shard { return id }
            _ = owner.ok("group.leave", ["group_id": id], timeout: 20)
        }
        throw MinterError("no group landed on shard \(shard)")
    }

    static func seq(_ event: [String: Any]?) -> Int? { (event?["message"] as? [String: Any])?["seq"] as? Int }

    @Test func messagesPresenceAndNotificationsCrossNodesOnEveryShard() throws {
        let cluster = try Cluster(nodes: 3, shards: 3)
        let names = (0..<3).map { Self.users(on: $0, 1, prefix: "runner")[0] }  // one user per shard
        let clients = try names.enumerated().map { node, user in try Fixture.client(cluster.nodes[node], user) }
        let (ann, ben, cat) = (clients[0], clients[1], clients[2])

        // A group on each shard, everyone in it; a message from node A reaches nodes B and C.
        for shard in 0..<3 {
            let group = try Self.group(on: shard, by: ann)
            #expect(ben.ok("group.join", ["group_id": group], timeout: 20) != nil)
            #expect(cat.ok("group.join", ["group_id": group], timeout: 20) != nil)
            let sent = try #require(ann.ok("chat.send", ["chat_id": group, "text": "shard \(shard)"], timeout: 20))
            let seq = Self.seq(sent)
            for receiver in [ben, cat] {
                #expect(Self.seq(receiver.event("message.new", timeout: 10) { Self.seq($0) == seq }) == seq,
                        "shard \(shard)'s chat crosses nodes")
            }
        }

        // Presence: each user's keys on the user's shard only; watching crosses nodes and shards.
        let watch = try #require(ann.ok("presence.subscribe", ["user_ids": [names[1], names[2]]], timeout: 20))
        #expect((watch["presence"] as? [[String: Any]])?.map { $0["state"] as? String } == ["online", "online"])
        for (shard, server) in cluster.shards.enumerated() {
            #expect(try server.command("EXISTS", "sg:ps:\(names[1])").integer == (shard == 1 ? 1 : 0))
        }
        #expect(cat.ok("presence.set", ["state": "training", "activity": "run"], timeout: 20) != nil)
        #expect((ann.event("presence", timeout: 10) { ($0["presence"] as? [String: Any])?["user_id"] as? String == names[2] }?["presence"]
            as? [String: Any])?["state"] as? String == "training")

        // Notifications through the API of node C reach ann on node A.
        let notified = try NotificationTests.notify(cluster.nodes[2], [names[0]], title: "Kudos", key: "k-1")
        #expect(notified.results.first?["delivery"] as? String == "live")
        #expect((ann.event("notification", timeout: 10)?["notification"] as? [String: Any])?["title"] as? String == "Kudos")
        // And through the stream partition on ben's shard (README: a backend adds a user's entries there).
        try NotificationStreamTests.add(cluster.shards[1], names[1], "From the stream", key: "s-1")
        #expect((ben.event("notification", timeout: 15)?["notification"] as? [String: Any])?["title"] as? String == "From the stream")
        // Any partition is read: an entry on another shard is delivered too.
        try NotificationStreamTests.add(cluster.shards[2], names[1], "Other partition", key: "s-2")
        #expect((ben.event("notification", timeout: 15)?["notification"] as? [String: Any])?["title"] as? String == "Other partition")
    }

    @Test func aShardKilledWhileMessagesFlowCutsOffOnlyItsChatsAndUsers() throws {
        let cluster = try Cluster(nodes: 3, shards: 3)
        let down = 1
        // Every user but `late` lives off the shard that goes down; `late` lives on it.
        let senderNames = Self.users(on: 0, 2, prefix: "w") + Self.users(on: 2, 1, prefix: "w")
        let steadyNames = Self.users(on: 0, 2, prefix: "s") + Self.users(on: 2, 2, prefix: "s")
        let cutNames = Self.users(on: 0, 1, prefix: "c") + Self.users(on: 2, 1, prefix: "c")
        let lateName = Self.users(on: down, 1, prefix: "l")[0]
        let senders = try senderNames.enumerated().map { i, user in try Fixture.client(cluster.nodes[i % 3], user) }
        let steady = try steadyNames.enumerated().map { i, user in try Fixture.client(cluster.nodes[i % 3], user) }
        let cut = try cutNames.enumerated().map { i, user in try Fixture.client(cluster.nodes[(i + 1) % 3], user) }
        let late = try Fixture.client(cluster.nodes[2], lateName)
        // A group on each shard, each with its own sender. The steady users follow the groups on
        // shards 0 and 2; the cut ones the group on shard 1; `late` the group on shard 0 (the
        // outage cuts its user topic).
        let groups = try (0..<3).map { try Self.group(on: $0, by: senders[$0]) }
        for client in steady { for group in [groups[0], groups[2]] { #expect(client.ok("group.join", ["group_id": group], timeout: 20) != nil) } }
        for client in cut { #expect(client.ok("group.join", ["group_id": groups[1]], timeout: 20) != nil) }
        #expect(late.ok("group.join", ["group_id": groups[0]], timeout: 20) != nil)

        var start: [String: Int] = [:]
        for (k, group) in groups.enumerated() { start[group] = DistributedFaultTests.history(senders[k], chat: group).keys.max() ?? 0 }
        Thread.sleep(forTimeInterval: 0.5)
        for client in steady + cut + [late] { _ = client.drainAll() }
        let steadyFollowing = steady.map { FollowingClient($0, start: start.filter { $0.key != groups[1] }) }
        let cutFollowing = cut.map { FollowingClient($0, start: [groups[1]: start[groups[1]]!]) }
        let lateFollowing = FollowingClient(late, start: [groups[0]: start[groups[0]]!])

        let flow = Flow(groups.enumerated().map { k, group in (senders[k], group, "g\(k)") })
        Thread.sleep(forTimeInterval: 1.5)
        cluster.shards[down].kill()
        Thread.sleep(forTimeInterval: 1)
        for node in cluster.nodes {
            let ready = try RawSocket.http(port: node.port, path: "/readyz")
            #expect(ready.status == 200, "the other shards serve: the node stays in the load balancer")
            #expect(ready.body.contains("\"bus_down\":[\"1 redis://127.0.0.1:\(cluster.shards[down].port)/0\"]"), "\(ready.body)")
            let metrics = try RawSocket.http(port: node.port, path: "/metrics").body
            #expect(metrics.range(of: #"social_bus_shard_up\{[^}]*shard="1"[^}]*\} 0"#, options: .regularExpression) != nil)
            #expect(metrics.range(of: #"social_bus_shard_up\{[^}]*shard="0"[^}]*\} 1"#, options: .regularExpression) != nil)
        }
        Thread.sleep(forTimeInterval: 2)
        try cluster.shards[down].restart()
        Thread.sleep(forTimeInterval: 3)
        flow.stop()
        Thread.sleep(forTimeInterval: 2)

        var final: [String: Int] = [:]
        for (k, group) in groups.enumerated() {
            let stored = DistributedFaultTests.history(senders[k], chat: group)
            final[group] = stored.keys.max() ?? 0
            try #require(!stored.isEmpty)
            #expect(Array(stored.keys).sorted() == Array(1...stored.count), "gap-free history")
            let ids = Set(stored.values.compactMap { $0["client_msg_id"] as? String })
            #expect(Set(flow.acknowledged(group)).isSubset(of: ids), "nothing acknowledged lost")
            #expect(flow.acknowledged(group).count > 5, "messages flowed in \(group)")
        }
        // The other shards' chats: every message live, no resync.
        for (client, user) in zip(steadyFollowing, steadyNames) {
            let report = client.stop()
            #expect(report.resyncs.isEmpty, "\(user) follows nothing on the shard that went down")
            #expect(report.silentHoles.isEmpty, "\(user): \(report.silentHoles); \(report.trace)")
            for group in [groups[0], groups[2]] {
                #expect(Set(report.live[group] ?? []).isSuperset(of: Set((start[group]! + 1)...final[group]!)),
                        "\(user) saw every message of the group on shard \(ShardMap(count: 3).shard(of: group)) live")
            }
        }
        // The cut-off clients: resynced, no silent hole, and complete in the end.
        for (client, user) in zip(cutFollowing + [lateFollowing], cutNames + [lateName]) {
            let report = client.stop()
            #expect(!report.resyncs.isEmpty, "\(user) follows a chat or is a user on the shard that went down")
            #expect(report.silentHoles.isEmpty, "\(user): \(report.silentHoles); \(report.trace)")
            for (group, position) in report.positions { #expect(position == final[group], "\(user) caught up in \(group)") }
        }
        let ready = try RawSocket.http(port: cluster.nodes[0].port, path: "/readyz")
        #expect(ready.status == 200 && !ready.body.contains("bus_down"), "\(ready.body)")
    }
}
