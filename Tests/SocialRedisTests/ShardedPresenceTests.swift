import Foundation
import Logging
import SocialCore
import SocialRedis
import SocialTesting
import Testing

/// Presence over three shards: each user's keys on the user's shard, calls
/// split by shard, a shard down affecting only its users.
@Suite struct ShardedPresenceTests {
    let t: Int64 = 1_700_000_000_000

    func session(_ id: String) -> SessionPresence {
        SessionPresence(sessionId: id, deviceId: id, state: .online, activity: nil, since: t)
    }

    func store(_ shards: Shards) throws -> RedisPresenceStore {
        var logger = Logger(label: "sharded-presence-test")
        logger.logLevel = .critical
        return try RedisPresenceStore(url: shards.url, logger: logger, settings: fastPresenceSettings)
    }

    /// Two users on each shard.
    func users(_ shards: Shards) -> [String] { (0..<3).flatMap { shards.chats(on: $0, 2, prefix: "u") } }

    @Test func eachUsersKeysLiveOnItsShardAndCallsSpanShards() async throws {
        let shards = try Shards()
        let store = try store(shards)
        defer { store.close() }
        let users = users(shards)
        for user in users { _ = try await store.set(user, session("s-\(user)"), ttlMs: 30_000, now: t) }
        for user in users {
            let home = shards.servers[shards.map.shard(of: user)]
            for server in shards.servers {
                #expect(try server.command("EXISTS", "sg:ps:\(user)").integer == (server === home ? 1 : 0))
            }
        }
        let presence = try await store.get(users.reversed(), now: t + 1)
        #expect(presence.map(\.userId) == users.reversed(), "in the caller's order")
        #expect(presence.allSatisfy { $0.state == .online })
        try await store.refresh(users.map { ($0, "s-\($0)") }, ttlMs: 30_000, now: t + 2)
        let changes = try await store.sweep(now: t + 60_000, limit: 100)
        #expect(Set(changes.map(\.after.userId)) == Set(users), "every shard swept")
        #expect(changes.allSatisfy { $0.after.state == .offline })
    }

    @Test func aShardDownFailsOnlyCallsAboutItsUsers() async throws {
        let shards = try Shards()
        let store = try store(shards)
        defer { store.close() }
        let users = users(shards)
        for user in users { _ = try await store.set(user, session("s-\(user)"), ttlMs: 1_000, now: t) }
        shards.servers[1].kill()
        #expect(await eventually { !store.isHealthy() })
        let elsewhere = users.filter { shards.map.shard(of: $0) != 1 }
        let cut = users.filter { shards.map.shard(of: $0) == 1 }
        #expect(try await store.get(elsewhere, now: t + 1).count == elsewhere.count)
        await #expect(throws: StoreError.self) { _ = try await store.get(users, now: t + 1) }
        await #expect(throws: StoreError.self) { _ = try await store.set(cut[0], session("again"), ttlMs: 1_000, now: t + 1) }
        // The sweep takes the live shards' expired sessions; shard 1's wait for it.
        let swept = try await store.sweep(now: t + 5_000, limit: 100)
        #expect(Set(swept.map(\.after.userId)) == Set(elsewhere))
    }
}
