import Foundation
import Testing
import SocialLWS
import SocialTesting

/// The asynchronous ingest: backends `XADD` notifications to a Redis stream;
/// the gateway reads them through a consumer group, stores them, then `XACK`s.
/// A gateway killed and restarted (same data directory and consumer name)
/// loses nothing added while it was down, and an entry it had read but not
/// acknowledged (a crash between the store and the `XACK`) is read again and
/// stored once thanks to its idempotency key.
@Suite(.serialized) struct NotificationStreamTests {
    init() async throws { try await Fixture.prepare() }

    static let stream = "social:notifications"

    static func add(_ redis: RedisTestServer, _ user: String, _ title: String, key: String) throws {
        let body = try JSONSerialization.data(withJSONObject: [
            "user_ids": [user], "type": "kudos", "title": title, "idempotency_key": key,
        ])
        _ = try redis.command([Array("XADD".utf8), Array(stream.utf8), Array("*".utf8), Array("notification".utf8), Array(body)])
    }

    static func pending(_ redis: RedisTestServer) throws -> Int {
        try redis.command("XPENDING", stream, "social-gateway").elements?.first?.integer ?? -1
    }

    static func titles(_ client: TestClient) -> [String] {
        let inbox = client.ok("notifications.list", ["limit": 200])?["notifications"] as? [[String: Any]] ?? []
        return inbox.compactMap { $0["title"] as? String }.reversed()
    }

    @Test func survivesARestartWithNothingLostAndNothingDoubled() async throws {
        let redis = try RedisTestServer.start()
        defer { redis.kill() }
        let dataDir = RepoPaths.temporaryDirectory(prefix: "notify-stream")
        let flags = ["--bus", redis.url, "--notify-stream-consumer", "node-a"]
        var gateway = try Fixture.gateway(flags, dataDir: dataDir)
        var ann = try Fixture.client(gateway, "ann")

        for i in 1...3 { try Self.add(redis, "ann", "n\(i)", key: "k\(i)") }
        for i in 1...3 {
            let event = ann.event("notification", timeout: 15)
            #expect((event?["notification"] as? [String: Any])?["title"] as? String == "n\(i)", "in stream order")
        }
        var acked = false
        for _ in 0..<100 where !acked {
            acked = try Self.pending(redis) == 0
            if !acked { try await Task.sleep(nanoseconds: 100_000_000) }
        }
        #expect(acked, "acknowledged once stored")

        gateway.kill()
        // A crash between the store and the XACK: node-a read an entry whose
        // notification is stored (key k3) but never acknowledged it.
        try Self.add(redis, "ann", "n3 again", key: "k3")
        let read = try redis.command("XREADGROUP", "GROUP", "social-gateway", "node-a", "COUNT", "1", "STREAMS", Self.stream, ">")
        #expect(read.elements?.isEmpty == false, "one entry now pending on node-a")
        #expect(try Self.pending(redis) == 1)
        // While the gateway is down: new entries, and a backend's retry of k2.
        for i in 4...5 { try Self.add(redis, "ann", "n\(i)", key: "k\(i)") }
        try Self.add(redis, "ann", "n2 again", key: "k2")
        try Self.add(redis, "ann", "n6", key: "k6")

        gateway = try Fixture.gateway(flags, dataDir: dataDir)
        ann = try Fixture.client(gateway, "ann")
        var seen: [String] = []
        for _ in 0..<100 {
            seen = Self.titles(ann)
            if seen.count >= 6, try Self.pending(redis) == 0 { break }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        #expect(seen == ["n1", "n2", "n3", "n4", "n5", "n6"], "nothing lost, nothing doubled: \(seen)\n\(gateway.logs.suffix(1500))")
        #expect(try Self.pending(redis) == 0)
        try await Task.sleep(nanoseconds: 500_000_000)
        #expect(Self.titles(ann).count == 6)

        // A malformed entry is acknowledged (logged), not retried forever.
        _ = try redis.command("XADD", Self.stream, "*", "notification", "{not json")
        for _ in 0..<50 where try Self.pending(redis) != 0 { try await Task.sleep(nanoseconds: 100_000_000) }
        #expect(try Self.pending(redis) == 0)
        #expect(ann.ok("ping") != nil)
    }
}
