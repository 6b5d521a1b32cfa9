import SocialCore
import SocialRedis
import Testing

/// Where chats and users live on a sharded bus: stable, balanced, and moving
/// only the expected fraction when a shard is added.
@Suite struct ShardMapTests {
    static let ids = (0..<100_000).map { "chat-\($0)" }

    /// Pinned against an independent implementation of the documented
    /// formula (Python, README "Sharding the bus"): a change here moves
    /// every deployment's chats.
    @Test func theHashAndThePlacementAreTheDocumentedOnes() {
        #expect(ShardMap.hash("g_1") == 0x5dff_2690_0b3c_dc9b)
        #expect(ShardMap.hash("alice") == 0xc5d1_556d_6677_4a5c)
        #expect(ShardMap.hash("") == 0xf52a_15e9_a9b5_e89b)
        #expect([1, 2, 3, 4, 10].map { ShardMap(count: $0).shard(of: "g_1") } == [0, 1, 2, 2, 9])
        #expect([1, 2, 3, 4, 10].map { ShardMap(count: $0).shard(of: "d_alice_bob") } == [0, 0, 0, 3, 3])
        #expect([1, 2, 3, 4, 10].map { ShardMap(count: $0).shard(of: "u_maya") } == [0, 0, 2, 2, 2])
    }

    @Test func aUsersChannelsAndPresenceShareItsShard() {
        let map = ShardMap(count: 5)
        for user in ["alice", "bob", "u_1", "ü"] {
            #expect(map.shard(of: Topic.user(user)) == map.shard(of: user))
            #expect(map.shard(of: Topic.presence(user)) == map.shard(of: user))
        }
        #expect(map.shard(of: Topic.chat("g_1")) == map.shard(of: "g_1"))
    }

    @Test(arguments: [1, 2, 3, 4, 7])
    func addingAShardMovesOneInNPlusOneOfTheIdsAllToTheNewShard(from count: Int) {
        let before = ShardMap(count: count), after = ShardMap(count: count + 1)
        var moved = 0
        for id in Self.ids {
            let old = before.shard(of: id), new = after.shard(of: id)
            guard old != new else { continue }
            moved += 1
            #expect(new == count, "\(id) moved from \(old) to \(new), not to the new shard")
        }
        let fraction = Double(moved) / Double(Self.ids.count)
        let expected = 1 / Double(count + 1)
        print("\(count) -> \(count + 1) shards: \(moved) of \(Self.ids.count) ids moved (\(fraction); expected \(expected))")
        #expect(abs(fraction - expected) < 0.01)
    }

    @Test(arguments: [2, 3, 5])
    func idsSpreadEvenly(over count: Int) {
        let map = ShardMap(count: count)
        var perShard = [Int](repeating: 0, count: count)
        for id in Self.ids { perShard[map.shard(of: id)] += 1 }
        let fair = Double(Self.ids.count) / Double(count)
        for n in perShard { #expect(abs(Double(n) - fair) / fair < 0.03, "\(perShard)") }
    }

    @Test func parsesAListOfShards() throws {
        let urls = try RedisURL.list(parsing: "redis://10.0.0.5:6379, redis://10.0.0.6:6380/2 ,redis://[::1]")
        #expect(urls.map(\.description) == ["redis://10.0.0.5:6379/0", "redis://10.0.0.6:6380/2", "redis://[::1]:6379/0"])
        #expect(try RedisURL.list(parsing: "redis://a").count == 1)
        for bad in ["", "redis://a,", "redis://a,,redis://b", "redis://a,http://b", "redis://a:6379,redis://a/1"] {
            #expect(throws: RedisBusError.invalidURL, "\(bad)") { try RedisURL.list(parsing: bad) }
        }
    }
}
