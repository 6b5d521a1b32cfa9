import Foundation
import SocialCore
import SocialRedis
import SocialTesting
import Testing

/// Several gateway nodes, each with its own `RedisPresenceStore`, sharing one Redis.
@Suite struct RedisPresenceNodesTests {
    let t: Int64 = 1_700_000_000_000

    @Test func sessionsOfOneUserOnTwoNodesAggregateTogether() async throws {
        let server = try RedisTestServer.start()
        let a = try PresenceNode(server, name: "a").store, b = try PresenceNode(server, name: "b").store
        defer { a.close(); b.close() }

        #expect(try await a.set("ann", session("phone"), ttlMs: 30_000, now: t) == change(offline(), online()))
        #expect(try await b.set("ann", session("watch", .training, "run"), ttlMs: 30_000, now: t + 1)
            == change(online(), training("run")), "b sees a's session before its own")
        #expect(try await a.get(["ann"], now: t + 2) == [training("run")])
        #expect(try await a.set("ann", session("phone", .away), ttlMs: 30_000, now: t + 3) == change(training("run"), training("run")))
        #expect(try await b.remove("ann", sessionId: "watch", now: t + 4) == change(training("run"), away()))
        #expect(try await a.remove("ann", sessionId: "phone", now: t + 5) == change(away(), offline(lastSeen: t + 5)))
        #expect(try await b.get(["ann"], now: t + 6) == [offline(lastSeen: t + 5)])
    }

    @Test func aNodeThatStopsRefreshingLosesItsSessionsAndBothNodesSweepEachChangeOnce() async throws {
        let server = try RedisTestServer.start()
        let a = try PresenceNode(server, name: "a").store, b = try PresenceNode(server, name: "b").store
        defer { a.close(); b.close() }
        let ttl: Int64 = 30_000
        let onlyA = (0..<60).map { "a\($0)" }, onlyB = (0..<60).map { "b\($0)" }, both = (0..<20).map { "ab\($0)" }
        var sessionsA: [(user: UserID, sessionId: String)] = onlyA.map { ($0, "A-\($0)") }
        var sessionsB: [(user: UserID, sessionId: String)] = onlyB.map { ($0, "B-\($0)") }
        for user in both {
            sessionsA.append((user, "A-\(user)"))
            sessionsB.append((user, "B-\(user)"))
        }
        for (user, id) in sessionsA { _ = try await a.set(user, session(id, both.contains(user) ? .training : .online, "run"), ttlMs: ttl, now: t) }
        for (user, id) in sessionsB { _ = try await b.set(user, session(id), ttlMs: ttl, now: t) }

        // Heartbeats every TTL/3; node a dies after its second.
        for beat in Int64(1)...5 {
            if beat <= 2 { try await a.refresh(sessionsA, ttlMs: ttl, now: t + beat * 10_000) }
            try await b.refresh(sessionsB, ttlMs: ttl, now: t + beat * 10_000)
        }
        let expiry = t + 20_000 + ttl
        #expect(try await sweepTogether(a, b, now: expiry - 1).isEmpty, "a's sessions are live until their expiry")

        let changes = try await sweepTogether(a, b, now: expiry)
        let expected = onlyA.map { PresenceChange(before: Presence(userId: $0, state: .online),
                                                  after: Presence(userId: $0, state: .offline, lastSeen: expiry)) }
            + both.map { PresenceChange(before: Presence(userId: $0, state: .training, activity: "run"),
                                        after: Presence(userId: $0, state: .online)) }
        #expect(changes.count == expected.count, "each change once, on one node or the other")
        #expect(changes.sorted(by: userOrder) == expected.sorted(by: userOrder))
        #expect(try await sweepTogether(a, b, now: expiry + 2_000).isEmpty, "nothing reported again")
        let users = onlyA + onlyB + both
        let now = try await b.get(users, now: expiry + 2_000)
        #expect(now == onlyA.map { Presence(userId: $0, state: .offline, lastSeen: expiry) }
            + (onlyB + both).map { Presence(userId: $0, state: .online) })
    }

    @Test func aDeadNodesUsersGoOfflineWithinTheTTLPlusOneSweep() async throws {
        let server = try RedisTestServer.start()
        let a = try PresenceNode(server, name: "a").store, b = try PresenceNode(server, name: "b").store
        defer { b.close() }
        let phone = session("phone")
        // On its own thread: a cooperative pool busy with other tests would delay the sweeps.
        try await OwnThreadExecutor.run {
            let ttl: Int64 = 600, sweepEvery: Int64 = 100
            _ = try await a.set("leo", phone, ttlMs: ttl, now: wallClock())
            var lastBeat: Int64 = 0
            for _ in 0..<3 {  // heartbeats every TTL/3, then the node dies
                try await Task.sleep(nanoseconds: UInt64(ttl / 3) * 1_000_000)
                lastBeat = wallClock()
                try await a.refresh([("leo", "phone")], ttlMs: ttl, now: lastBeat)
            }
            a.close()

            // Node b's sweeper, every 100 ms: the first sweep at or after the
            // expiry must report leo offline (so within the TTL plus one sweep
            // interval of the last heartbeat, however loaded the machine).
            var sweeps: [(now: Int64, offline: Bool)] = []
            while !sweeps.contains(where: \.offline), wallClock() < lastBeat + 5_000 {
                let now = wallClock()
                let changes = try await b.sweep(now: now, limit: 1000)
                sweeps.append((now, changes.contains { $0.after.state == .offline }))
                try await Task.sleep(nanoseconds: UInt64(sweepEvery) * 1_000_000)
            }
            let expiry = lastBeat + ttl
            let first = try #require(sweeps.firstIndex { $0.now >= expiry }, "no sweep after the expiry")
            #expect(sweeps[first].offline, "the first sweep after the expiry reports it")
            #expect(try await b.sweep(now: wallClock(), limit: 1000).isEmpty, "reported once")
            #expect(sweeps[..<first].allSatisfy { !$0.offline }, "not before the TTL passed")
            #expect(try await b.get(["leo"], now: wallClock()) == [Presence(userId: "leo", state: .offline, lastSeen: lastBeat + ttl)])
        }
    }

    /// Sweeps on both nodes at once, each in a loop (small limits, so they
    /// interleave) until it finds nothing; returns every change either reported.
    private func sweepTogether(_ a: RedisPresenceStore, _ b: RedisPresenceStore, now: Int64) async throws -> [PresenceChange] {
        try await withThrowingTaskGroup(of: [PresenceChange].self) { group in
            for store in [a, b, a, b] {
                group.addTask {
                    var all: [PresenceChange] = []
                    while true {
                        let changes = try await store.sweep(now: now, limit: 5)
                        if changes.isEmpty { return all }
                        all += changes
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
    }

    private func userOrder(_ x: PresenceChange, _ y: PresenceChange) -> Bool { x.before.userId < y.before.userId }

    private func session(_ id: String, _ state: PresenceState = .online, _ activity: String? = nil) -> SessionPresence {
        SessionPresence(sessionId: id, deviceId: "device-\(id)", state: state, activity: state == .training ? activity : nil, since: t)
    }

    private func online() -> Presence { Presence(userId: "ann", state: .online) }
    private func away() -> Presence { Presence(userId: "ann", state: .away) }
    private func training(_ activity: String) -> Presence { Presence(userId: "ann", state: .training, activity: activity) }
    private func offline(lastSeen: Int64? = nil) -> Presence { Presence(userId: "ann", state: .offline, lastSeen: lastSeen) }
    private func change(_ before: Presence, _ after: Presence) -> PresenceChange { PresenceChange(before: before, after: after) }
}

/// Milliseconds since 1970, as the gateway's clock gives them.
func wallClock() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
