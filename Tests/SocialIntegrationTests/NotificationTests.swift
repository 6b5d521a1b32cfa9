import Foundation
import Testing
import SocialLWS
import SocialTesting

/// Notifications end to end: a backend calls `POST /api/v1/notifications`
/// over a real socket; online devices receive the event once each, offline
/// users go to a real HTTP push service (`WebhookTestServer`) and catch up with
/// `sync`; a retried key is stored once; `normal` ones held during a training
/// arrive as one digest after it.
@Suite struct NotificationTests {
    init() async throws { try await Fixture.prepare() }

    static func backend(_ gateway: GatewayProcess) -> APIClient {
        APIClient(port: gateway.port, token: Fixture.minter.token(user: "svc-social", extra: ["scope": "social:notify"]))
    }

    static func gateway(_ webhook: WebhookTestServer, _ extra: [String] = []) throws -> GatewayProcess {
        try Fixture.gateway(["--push-webhook-url", webhook.url, "--push-backoff-ms", "50",
                             "--push-webhook-token", "push-secret"] + extra)
    }

    /// POSTs a notification; returns the status and each user's `delivery`.
    static func notify(_ gateway: GatewayProcess, _ users: [String], title: String, key: String? = nil,
                       priority: String = "normal") throws -> (status: Int, results: [[String: Any]]) {
        var body: [String: Any] = ["user_ids": users, "type": "kudos", "title": title, "body": "body of \(title)",
                                   "data": ["link": "fitapp://kudos/\(title)"], "priority": priority]
        if let key { body["idempotency_key"] = key }
        let response = try backend(gateway).call("POST", "/api/v1/notifications", json: body)
        return (response.status, response.json?["results"] as? [[String: Any]] ?? [])
    }

    @Test func onlineDevicesGetItOnceOfflineUsersArePushedAndSyncOnReconnect() async throws {
        let webhook = try WebhookTestServer()
        defer { webhook.stop() }
        let gateway = try Self.gateway(webhook)
        let phone = try Fixture.client(gateway, "ann", device: "phone")
        let watch = try Fixture.client(gateway, "ann", device: "watch")

        let (status, results) = try Self.notify(gateway, ["ann", "bob"], title: "Nice run", key: "kudos-1")
        #expect(status == 201)
        #expect(results.map { $0["delivery"] as? String } == ["live", "push"])
        for device in [phone, watch] {
            let event = try #require(device.event("notification", timeout: 10))
            let notification = try #require(event["notification"] as? [String: Any])
            #expect(notification["title"] as? String == "Nice run")
            #expect((notification["data"] as? [String: Any])?["link"] as? String == "fitapp://kudos/Nice run")
            #expect(event["unread"] as? Int == 1)
        }

        // Bob has no device online: the push service gets him, once.
        let pushed = await webhook.waitForRequests(1)
        #expect(pushed.count == 1)
        #expect(pushed.first?.body.userId == "bob")
        #expect(pushed.first?.body.digest == false)
        #expect(pushed.first?.body.notifications.map(\.title) == ["Nice run"])
        #expect(pushed.first?.headers["Authorization"] == "Bearer push-secret")

        // The push outcome is recorded on bob's notification.
        var push: String?
        for _ in 0..<100 {
            let inbox = try Self.backend(gateway).call("GET", "/api/v1/users/bob/notifications")
            push = ((inbox.json?["notifications"] as? [[String: Any]])?.first?["push"] as? String)
            if push == "sent" { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(push == "sent")
        let annStates = try Self.backend(gateway).call("GET", "/api/v1/users/ann/notifications?limit=5")
        #expect((annStates.json?["notifications"] as? [[String: Any]])?.map { $0["push"] as? String } == ["skipped"])
        #expect(try Self.backend(gateway).call("GET", "/api/v1/users/ann/notifications?limit=0").status == 400)

        // The backend retries with the same key: nothing new anywhere.
        let retry = try Self.notify(gateway, ["ann", "bob"], title: "Nice run", key: "kudos-1")
        #expect(retry.status == 200)
        #expect(retry.results.map { $0["delivery"] as? String } == ["duplicate", "duplicate"])
        #expect(retry.results.map { $0["id"] as? Int } == results.map { $0["id"] as? Int })
        #expect(phone.event("notification", timeout: 1) == nil, "delivered once per device")
        #expect(watch.event("notification", timeout: 0.2) == nil)
        let annInbox = try #require(phone.ok("notifications.list"))
        #expect((annInbox["notifications"] as? [[String: Any]])?.count == 1)
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(webhook.requests.count == 1, "the retry pushed nothing")

        // Bob comes online and catches up with sync, then reads it on one
        // device: his other device gets the badge.
        let bobPhone = try Fixture.client(gateway, "bob", device: "phone")
        let bobTablet = try Fixture.client(gateway, "bob", device: "tablet")
        let synced = try #require(bobPhone.ok("sync", ["chats": [], "notifications_after": 0])?["notifications"] as? [String: Any])
        let changes = try #require(synced["changes"] as? [[String: Any]])
        #expect(changes.map { $0["title"] as? String } == ["Nice run"])
        #expect(synced["unread"] as? Int == 1)
        let position = try #require(synced["position"] as? Int)
        #expect((bobPhone.ok("sync", ["chats": [], "notifications_after": position])?["notifications"] as? [String: Any])?["changes"]
            as? [Any] != nil)
        let acked = try #require(bobPhone.ok("notifications.ack", ["status": "read", "up_to": position]))
        #expect(acked["changed"] as? Int == 1)
        #expect(acked["unread"] as? Int == 0)
        #expect(bobTablet.event("notifications.badge", timeout: 10)?["unread"] as? Int == 0)

        // The outcomes are counted in /metrics.
        let metrics = try RawSocket.http(port: gateway.port, path: "/metrics").body
        for line in [#"social_notifications_total{outcome="live"} 1"#, #"social_notifications_total{outcome="push"} 1"#,
                     #"social_notifications_total{outcome="duplicate"} 2"#, #"social_notifications_total{outcome="push_sent"} 1"#] {
            #expect(metrics.contains(line), "\(line) in:\n\(metrics.split(separator: "\n").filter { $0.contains("notif") })")
        }
    }

    @Test func normalNotificationsHeldDuringTrainingArriveAsOneDigest() async throws {
        let webhook = try WebhookTestServer()
        defer { webhook.stop() }
        let gateway = try Self.gateway(webhook)
        let watch = try Fixture.client(gateway, "cara", device: "watch")
        let phone = try Fixture.client(gateway, "cara", device: "phone")
        #expect(watch.ok("presence.set", ["state": "training", "activity": "run"]) != nil)

        #expect(try Self.notify(gateway, ["cara"], title: "Leo liked your photo").results.first?["delivery"] as? String == "held")
        #expect(try Self.notify(gateway, ["cara"], title: "Ana commented").results.first?["delivery"] as? String == "held")
        #expect(try Self.notify(gateway, ["cara"], title: "Race starts soon", priority: "high").results.first?["delivery"]
            as? String == "live")
        #expect(phone.event("notification", timeout: 10)?["notification"].flatMap { ($0 as? [String: Any])?["title"] as? String }
            == "Race starts soon")
        #expect(phone.event("notification", timeout: 1) == nil, "normal ones are held")
        #expect(phone.event("notifications.digest", timeout: 0.1) == nil)

        // The training ends: one digest to each device, with both held ones.
        #expect(watch.ok("presence.set", ["state": "online"]) != nil)
        for device in [phone, watch] {
            let digest = try #require(device.event("notifications.digest", timeout: 10))
            let titles = (digest["notifications"] as? [[String: Any]])?.map { $0["title"] as? String }
            #expect(titles == ["Leo liked your photo", "Ana commented"])
            #expect(digest["unread"] as? Int == 3)
        }
        // Training again and stopping again sends no second digest.
        #expect(watch.ok("presence.set", ["state": "training"]) != nil)
        #expect(watch.ok("presence.set", ["state": "online"]) != nil)
        #expect(phone.event("notifications.digest", timeout: 1) == nil)
        #expect(webhook.requests.isEmpty, "nobody was offline")
    }

    @Test func aTrainingThatEndsOfflineSendsOneDigestToThePushService() async throws {
        let webhook = try WebhookTestServer(failFirst: 1)
        defer { webhook.stop() }
        let gateway = try Self.gateway(webhook)
        let watch = try Fixture.client(gateway, "dan", device: "watch")
        #expect(watch.ok("presence.set", ["state": "training"]) != nil)
        for title in ["one", "two", "three"] {
            #expect(try Self.notify(gateway, ["dan"], title: title).results.first?["delivery"] as? String == "held")
        }
        watch.close()
        // The first attempt gets 503; the retry (same key) is accepted.
        let received = await webhook.waitForRequests(2)
        #expect(received.map(\.status) == [503, 200])
        #expect(received.last?.body.digest == true)
        #expect(received.last?.body.notifications.map(\.title) == ["one", "two", "three"])
        #expect(received.first?.headers["Idempotency-Key"] == received.last?.headers["Idempotency-Key"])
        var states: [String?] = []
        for _ in 0..<100 {
            let inbox = try Self.backend(gateway).call("GET", "/api/v1/users/dan/notifications")
            states = (inbox.json?["notifications"] as? [[String: Any]])?.map { $0["push"] as? String } ?? []
            if states == ["sent", "sent", "sent"] { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(states == ["sent", "sent", "sent"], "the digest's outcome is recorded on each notification")
        try await Task.sleep(nanoseconds: 500_000_000)
        #expect(webhook.requests.count == 2)
    }

    @Test func badRequestsGetProblemsAndTheScopeIsChecked() throws {
        let webhook = try WebhookTestServer()
        defer { webhook.stop() }
        let gateway = try Self.gateway(webhook)
        let missing = try Self.backend(gateway).call("POST", "/api/v1/notifications", json: ["user_ids": ["ann"], "type": "kudos"])
        #expect(missing.status == 400)
        #expect((missing.json?["detail"] as? String)?.contains("title") == true)
        let tooLong = try Self.notify(gateway, ["ann"], title: String(repeating: "x", count: 201))
        #expect(tooLong.status == 400)
        let badPriority = try Self.backend(gateway).call("POST", "/api/v1/notifications",
                                                         json: ["user_ids": ["ann"], "type": "kudos", "title": "t", "priority": "urgent"])
        #expect(badPriority.status == 400)
        let poster = APIClient(port: gateway.port, token: Fixture.minter.token(user: "svc", extra: ["scope": "social:post"]))
        #expect(try poster.call("POST", "/api/v1/notifications", json: ["user_ids": ["ann"], "type": "k", "title": "t"]).status == 403)
        let client = try Fixture.client(gateway, "ann")
        let error = client.command("notifications.ack", ["status": "unread", "up_to": 1])?["error"] as? [String: Any]
        #expect(error?["code"] as? String == "invalid_args")
    }
}
