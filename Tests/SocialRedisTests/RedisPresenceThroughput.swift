import Foundation
import SocialCore
import SocialRedis
import SocialTesting
import Testing

/// What presence costs a node with many sessions, through a real
/// `redis-server`: connects (sets from many tasks at once), one heartbeat,
/// sweeps that take a dead node's sessions offline, and queries. A benchmark
/// that prints figures, not a timed assertion; opt-in:
///
///     REDIS_PRESENCE_BENCH=1 swift test -c release --filter RedisPresenceThroughput
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["REDIS_PRESENCE_BENCH"] != nil))
struct RedisPresenceThroughput {
    @Test func aNodeWithTenThousandSessions() async throws {
        let server = try RedisTestServer.start()
        let store = try PresenceNode(server, settings: RedisPresenceStore.Settings()).store
        defer { store.close() }
        let count = 10_000, t: Int64 = 1_700_000_000_000, ttl: Int64 = 30_000
        let sessions = (0..<count).map { (user: "usr_\($0 / 2)", sessionId: "gw1-\($0)") }
        let clock = ContinuousClock()

        let sets = try await clock.measure {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<64 {
                    group.addTask {
                        for (user, id) in sessions[lane...].striding(by: 64) {
                            let session = SessionPresence(sessionId: id, deviceId: id, state: .online, activity: nil, since: t)
                            _ = try await store.set(user, session, ttlMs: ttl, now: t)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        report("set, 64 tasks at once", count, sets)
        report("refresh, one heartbeat", count, try await clock.measure {
            try await store.refresh(sessions, ttlMs: ttl, now: t + 10_000)
        })
        let users = Array(Set(sessions.map(\.user))).sorted()
        report("get, 1000 users a call", users.count, try await clock.measure {
            for start in stride(from: 0, to: users.count, by: 1000) {
                _ = try await store.get(Array(users[start..<min(start + 1000, users.count)]), now: t + 10_000)
            }
        })
        var swept = 0
        let sweeps = try await clock.measure {
            while true {
                let changes = try await store.sweep(now: t + 40_000, limit: 1000)
                if changes.isEmpty { break }
                swept += changes.count
            }
        }
        report("sweep, limit 1000 (users)", swept, sweeps)
        #expect(swept == users.count)
    }

    private func report(_ what: String, _ count: Int, _ took: Duration) {
        let seconds = Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18
        print(String(format: "presence %@: %d in %.3f s, %.0f per second", what, count, seconds, Double(count) / seconds))
    }
}

private extension ArraySlice {
    func striding(by step: Int) -> [Element] {
        stride(from: startIndex, to: endIndex, by: step).map { self[$0] }
    }
}
