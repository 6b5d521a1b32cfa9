import Foundation
import Testing
import SocialLWS
import SocialTesting

/// Notification fan-out: notifications created through the API and delivered
/// live per second to N online users. A benchmark run by hand, printing
/// figures and asserting only that everything arrived exactly once:
///
///     swift build -c release --product social-gateway
///     swift build --build-tests
///     NOTIFY_BENCH=1 SOCIAL_GATEWAY_BIN=$(swift build -c release --show-bin-path)/social-gateway \
///         swift test --skip-build --filter NotificationFanoutBenchmark
///
/// `NOTIFY_BENCH_USERS` (default 500) users are connected, one device each;
/// `NOTIFY_BENCH_POSTS` (default 40) posts, each addressed to every user, are
/// sent by `NOTIFY_BENCH_POSTERS` (default 4) backends at once. The gateway
/// runs on the embedded store (SQLite), `--store` can be changed with
/// `NOTIFY_BENCH_STORE`.
@Suite(.serialized) struct NotificationFanoutBenchmark {
    static let enabled = ProcessInfo.processInfo.environment["NOTIFY_BENCH"] != nil
    static func setting(_ name: String, _ fallback: Int) -> Int {
        ProcessInfo.processInfo.environment[name].flatMap(Int.init) ?? fallback
    }

    init() async throws { try await Fixture.prepare() }

    @Test(.enabled(if: enabled)) func notificationsPerSecond() throws {
        let users = Self.setting("NOTIFY_BENCH_USERS", 500)
        let posts = Self.setting("NOTIFY_BENCH_POSTS", 40)
        let posters = Self.setting("NOTIFY_BENCH_POSTERS", 4)
        var flags = ["--max-connections", "\(users + 100)"]
        if let store = ProcessInfo.processInfo.environment["NOTIFY_BENCH_STORE"] { flags += ["--store", store] }
        let gateway = try Fixture.gateway(flags)
        let ids = (0..<users).map { "fan\($0)" }
        let clients = try ids.map { try Fixture.client(gateway, $0) }

        let start = Date()
        let failures = NSLock()
        var failed: [String] = []
        DispatchQueue.concurrentPerform(iterations: posters) { poster in
            let api = NotificationTests.backend(gateway)
            for post in stride(from: poster, to: posts, by: posters) {
                let body: [String: Any] = ["user_ids": ids, "type": "bench", "title": "post \(post)",
                                           "data": ["link": "fitapp://bench/\(post)"], "idempotency_key": "bench-\(post)"]
                do {
                    let response = try api.call("POST", "/api/v1/notifications", json: body, timeout: 120)
                    if response.status != 201 { failures.withLock { failed.append("\(response.status) \(response.body.prefix(200))") } }
                } catch {
                    failures.withLock { failed.append("\(error)") }
                }
            }
        }
        let created = Date().timeIntervalSince(start)
        #expect(failed.isEmpty, "\(failed.prefix(3))")

        // Every device must get every post exactly once.
        var received = 0
        for client in clients {
            for _ in 0..<posts where client.event("notification", timeout: 60) != nil { received += 1 }
        }
        let delivered = Date().timeIntervalSince(start)
        var extra = 0
        for client in clients { extra += client.drainEvents("notification").count }
        #expect(received == users * posts)
        #expect(extra == 0)

        let total = Double(users * posts)
        print(String(format: """
            notification fan-out: %d users online, %d posts x %d users by %d backends = %.0f notifications
              created (all API calls answered): %.2f s, %.0f notifications/s
              delivered live (last event read):  %.2f s, %.0f notifications/s (%d received, %d extra)
            """, users, posts, users, posters, total, created, total / created, delivered, Double(received) / delivered,
            received, extra))
        for client in clients { client.close() }
    }
}
