import Foundation
import Testing
import SocialTesting

/// No silent hole after a bus outage (issue 13): two nodes, Redis killed with
/// SIGKILL and restarted 3 s later while messages flow. Every receiving
/// connection, following the protocol (`FollowingClient`), gets every event
/// or a `resync` before the first event after each hole; nothing
/// acknowledged is lost.
@Suite(.serialized) struct BusOutageStreamTests {
    init() async throws { try await Fixture.prepare() }

    @Test func everyLiveStreamIsGapFreeOrAnnouncedThroughARedisRestart() throws {
        let cluster = try Cluster(nodes: 2)
        // Two senders per chat, one on each node: a chat's events come through both nodes'
        // publishers, which reconnect at different times. Four receivers, two per node.
        let senders = try (0..<6).map { try Fixture.client(cluster.nodes[$0 % 2], "sender\($0)") }
        let receivers = try (0..<4).map { try Fixture.client(cluster.nodes[$0 % 2], "receiver\($0)") }
        var chats: [String] = []
        for owner in senders.prefix(3) {
            chats.append(try #require((owner.ok("group.create", ["title": "Relay", "open": true], timeout: 20)?["group"]
                as? [String: Any])?["group_id"] as? String))
        }
        for (k, chat) in chats.enumerated() {
            #expect(senders[k + 3].ok("group.join", ["group_id": chat], timeout: 20) != nil)
            for receiver in receivers { #expect(receiver.ok("group.join", ["group_id": chat], timeout: 20) != nil) }
        }
        var start: [String: Int] = [:]
        for (k, chat) in chats.enumerated() { start[chat] = DistributedFaultTests.history(senders[k], chat: chat).keys.max() ?? 0 }
        Thread.sleep(forTimeInterval: 0.5)
        for receiver in receivers { _ = receiver.drainAll() }  // the set-up's events
        let following = receivers.map { FollowingClient($0, start: start) }

        let flow = Flow(chats.enumerated().flatMap { k, chat in
            [(senders[k], chat, "flow\(k)a"), (senders[k + 3], chat, "flow\(k)b")]
        })
        Thread.sleep(forTimeInterval: 1.5)
        cluster.redis.kill()
        Thread.sleep(forTimeInterval: 3)
        try cluster.redis.restart()
        Thread.sleep(forTimeInterval: 3)
        flow.stop()
        Thread.sleep(forTimeInterval: 2)  // the last deliveries (and the reorder window)

        var final: [String: Int] = [:]
        for (k, chat) in chats.enumerated() {
            let stored = DistributedFaultTests.history(senders[k], chat: chat)
            final[chat] = stored.keys.max() ?? 0
            try #require(!stored.isEmpty)
            #expect(Array(stored.keys).sorted() == Array(1...stored.count), "gap-free history")
            let ids = Set(stored.values.compactMap { $0["client_msg_id"] as? String })
            #expect(Set(flow.acknowledged(chat)).isSubset(of: ids), "every acknowledged message stored")
            #expect(flow.acknowledged(chat).count > 5, "messages flowed")
        }
        var resyncs: [String] = []
        for (n, client) in following.enumerated() {
            let report = client.stop()
            #expect(report.silentHoles.isEmpty, "receiver\(n) met holes no resync announced: \(report.silentHoles); \(report.trace)")
            #expect(report.positions == final, "receiver\(n) ends with every message (live or through sync)")
            resyncs += report.resyncs
        }
        print("redis restart: resyncs \(Dictionary(grouping: resyncs, by: { $0 }).mapValues(\.count)) on \(receivers.count) receivers, no silent hole")
        #expect(resyncs.filter { $0 == "bus_interrupted" }.count >= receivers.count, "every receiver's node lost the bus")
    }
}
