import SocialCore
import SocialRedis
import SocialTesting
import Testing

/// Where the Redis store reads the `PresenceStore` documentation more strictly
/// than `MemoryPresenceStore` (not in the shared contract: the two differ).
@Suite struct RedisPresenceLastSeenTests {
    let t: Int64 = 1_700_000_000_000

    /// "When it was the user's last [session], the user goes offline with
    /// lastSeen = now": the last *live* one. A session of a dead node that
    /// expired but was not swept yet ended earlier; it must not leave the
    /// user offline without lastSeen, nor lower lastSeen when swept.
    /// (`MemoryPresenceStore` sets lastSeen only when no entry at all is
    /// left, and its sweep then sets the expired session's earlier expiry.)
    @Test func removingTheLastLiveSessionSetsLastSeenEvenWhileAnExpiredOneAwaitsTheSweep() async throws {
        let server = try RedisTestServer.start()
        let store = try PresenceNode(server).store
        defer { store.close() }
        let dead = SessionPresence(sessionId: "dead-node", deviceId: "tablet", state: .online, activity: nil, since: t)
        let phone = SessionPresence(sessionId: "phone", deviceId: "phone", state: .away, activity: nil, since: t)
        _ = try await store.set("ann", dead, ttlMs: 1_000, now: t)
        _ = try await store.set("ann", phone, ttlMs: 30_000, now: t)

        #expect(try await store.remove("ann", sessionId: "phone", now: t + 5_000) == PresenceChange(
            before: Presence(userId: "ann", state: .away), after: Presence(userId: "ann", state: .offline, lastSeen: t + 5_000)))
        let swept = try await store.sweep(now: t + 6_000, limit: 10)
        #expect(swept.map(\.after) == [Presence(userId: "ann", state: .offline, lastSeen: t + 5_000)], "the later lastSeen stays")
        #expect(try await store.get(["ann"], now: t + 6_000) == [Presence(userId: "ann", state: .offline, lastSeen: t + 5_000)])
    }
}
