import Foundation
import Testing
import SocialTesting

/// Nothing left half-done at shutdown: pushes under way are sent after the
/// restart under the same idempotency key, exactly once; a backend call
/// answered 504 is cancelled; every worker thread of the gateway stops.
@Suite(.serialized) struct ShutdownTests {
    init() async throws { try await Fixture.prepare() }

    static func pushFlags(_ webhook: WebhookTestServer) -> [String] {
        ["--push-webhook-url", webhook.url, "--push-attempts", "20", "--push-backoff-ms", "300",
         "--push-max-backoff-ms", "300", "--push-timeout-ms", "1000", "--drain-timeout", "1"]
    }

    static func keys(_ requests: [WebhookTestServer.Received], status: Int? = nil) -> [String] {
        requests.filter { status == nil || $0.status == status }.compactMap { $0.headers["Idempotency-Key"] }
    }

    @Test func pushesUnderWayAtShutdownAreSentAfterTheRestartOncePerKey() async throws {
        let down = try WebhookTestServer(failFirst: 1_000_000)   // the push service answers 503 for now
        defer { down.stop() }
        let dataDir = RepoPaths.temporaryDirectory(prefix: "gw-push")
        let first = try Fixture.gateway(Self.pushFlags(down), dataDir: dataDir)
        let notified = try NotificationTests.notify(first, ["u1", "u2", "u3"], title: "Kudos", key: "k-1")
        #expect(notified.results.map { $0["delivery"] as? String } == ["push", "push", "push"])
        let tried = await down.waitForRequests(3)
        #expect(Set(Self.keys(tried)).count == 3, "each push was attempted")

        #expect(first.stop() == 0, "a clean stop")
        #expect(first.logs.contains("left for a restart"))
        #expect(first.logs.contains("worker_threads_left=none"), "every worker thread stopped:\n\(first.logs.suffix(2000))")

        let up = try WebhookTestServer()
        defer { up.stop() }
        let second = try Fixture.gateway(Self.pushFlags(up), dataDir: dataDir)
        let pushed = await up.waitForRequests(3)
        #expect(Set(Self.keys(pushed, status: 200)) == Set(Self.keys(tried)), "the same idempotency keys")
        for user in ["u1", "u2", "u3"] {
            var state: String?
            for _ in 0..<100 where state != "sent" {
                let inbox = try NotificationTests.backend(second).call("GET", "/api/v1/users/\(user)/notifications")
                state = (inbox.json?["notifications"] as? [[String: Any]])?.first?["push"] as? String
                if state != "sent" { try await Task.sleep(nanoseconds: 50_000_000) }
            }
            #expect(state == "sent", "\(user)'s push is recorded sent")
        }
        // The node looks for stalled pushes every 5 s: nothing goes out twice.
        try await Task.sleep(nanoseconds: 6_000_000_000)
        let accepted = Self.keys(up.requests, status: 200) + Self.keys(down.requests, status: 200)
        #expect(accepted.count == 3 && Set(accepted).count == 3, "each key accepted exactly once: \(accepted)")
    }

    @Test func everyWorkerThreadStopsOnADistributedNodeWithEveryFeature() throws {
        let cluster = try Cluster(nodes: 1, extra: [
            "--upstream", "training=http://127.0.0.1:9", "--upstream-allow", "training=GET:/v1",
            "--push-webhook-url", "http://127.0.0.1:9/push"])
        let node = cluster.nodes[0]
        let ann = try Fixture.client(node, "ann")
        #expect(ann.ok("ping") != nil)
        #expect(node.stop() == 0)
        #expect(node.logs.contains("worker_threads_left=none"), "\(node.logs.suffix(2000))")
    }

    @Test func aCallAnswered504IsCancelledAndDoesNotGoOnInTheBackground() async throws {
        let cluster = try Cluster(nodes: 1, extra: ["--api-timeout-ms", "1000"])
        let node = cluster.nodes[0]
        let users = (1...100).map { "u\($0)" }
        cluster.mongo.pause()   // the database hangs: every store call waits
        let response = try NotificationTests.backend(node).call(
            "POST", "/api/v1/notifications",
            json: ["user_ids": users, "type": "kudos", "title": "Late", "idempotency_key": "late-1"], timeout: 20)
        #expect(response.status == 504)
        #expect(response.body.contains("cancelled"))
        try await Task.sleep(nanoseconds: 1_000_000_000)
        cluster.mongo.resume()
        // What was under way may complete; what had not started must not.
        try await Task.sleep(nanoseconds: 3_000_000_000)
        var created = 0
        for user in users {
            let inbox = try NotificationTests.backend(node).call("GET", "/api/v1/users/\(user)/notifications", timeout: 20)
            #expect(inbox.status == 200)
            created += (inbox.json?["notifications"] as? [[String: Any]])?.count ?? 0
        }
        #expect(created < users.count, "the cancelled call stopped: \(created) of \(users.count) created")
        print("504 cancelled: \(created) of \(users.count) notifications created (those under way when it timed out)")
        #expect(node.logs.contains("timed out and was cancelled"))
    }
}
