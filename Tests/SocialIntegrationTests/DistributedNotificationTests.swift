import Foundation
import Testing
import SocialLWS
import SocialTesting

/// Notifications across two nodes sharing Redis (bus, presence) and the
/// MongoDB-wire server (inbox): devices on either node get the event once, a
/// retry through the other node is stored once, the training digest is sent
/// once to every device wherever it is connected, and an offline user is
/// pushed once and catches up on the other node.
@Suite(.serialized) struct DistributedNotificationTests {
    init() async throws { try await Fixture.prepare() }

    @Test func liveDigestAndRetriesAcrossNodesHappenOnce() async throws {
        let webhook = try WebhookTestServer()
        defer { webhook.stop() }
        let cluster = try Cluster(nodes: 2, extra: ["--push-webhook-url", webhook.url, "--push-backoff-ms", "50"])
        let watch = try Fixture.client(cluster.nodes[0], "ann", device: "watch")
        let phone = try Fixture.client(cluster.nodes[1], "ann", device: "phone")
        #expect(watch.ok("presence.set", ["state": "training", "activity": "ride"]) != nil)

        // Through node B: held for ann (her presence in Redis says training), pushed for bob.
        let first = try NotificationTests.notify(cluster.nodes[1], ["ann", "bob"], title: "Weekly summary", key: "weekly-48")
        #expect(first.status == 201)
        #expect(first.results.map { $0["delivery"] as? String } == ["held", "push"])
        // The backend's retry reaches node A: the same notifications, nothing new.
        let retry = try NotificationTests.notify(cluster.nodes[0], ["ann", "bob"], title: "Weekly summary", key: "weekly-48")
        #expect(retry.status == 200)
        #expect(retry.results.map { $0["delivery"] as? String } == ["duplicate", "duplicate"])

        // High priority through node A reaches both devices at once, once each.
        let urgent = try NotificationTests.notify(cluster.nodes[0], ["ann"], title: "Storm warning", priority: "high")
        #expect(urgent.results.first?["delivery"] as? String == "live")
        for device in [watch, phone] {
            let event = device.event("notification", timeout: 10)
            #expect((event?["notification"] as? [String: Any])?["title"] as? String == "Storm warning")
        }
        #expect(phone.event("notification", timeout: 1) == nil)
        #expect(watch.event("notification", timeout: 0.1) == nil)

        // The training ends on node A: one digest, on both nodes' devices.
        #expect(watch.ok("presence.set", ["state": "online"]) != nil)
        for device in [watch, phone] {
            let digest = device.event("notifications.digest", timeout: 10)
            #expect((digest?["notifications"] as? [[String: Any]])?.map { $0["title"] as? String } == ["Weekly summary"],
                    "node B log:\n\(cluster.nodes[1].logs.suffix(1000))")
        }
        #expect(phone.event("notifications.digest", timeout: 1) == nil, "sent once")
        #expect(watch.event("notifications.digest", timeout: 0.1) == nil)

        // Bob was pushed once, and finds it on node A.
        let pushed = await webhook.waitForRequests(1)
        try await Task.sleep(nanoseconds: 500_000_000)
        #expect(webhook.requests.count == 1)
        #expect(pushed.first?.body.userId == "bob")
        let bob = try Fixture.client(cluster.nodes[0], "bob")
        let synced = bob.ok("sync", ["chats": [], "notifications_after": 0])?["notifications"] as? [String: Any]
        #expect((synced?["changes"] as? [[String: Any]])?.map { $0["title"] as? String } == ["Weekly summary"])
        #expect(synced?["unread"] as? Int == 1)
    }
}
