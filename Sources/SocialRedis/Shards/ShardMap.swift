import SocialCore

/// Which shard of a sharded Redis deployment holds a chat or a user:
/// consistent hashing by Lamping and Veach's jump hash ("A Fast, Minimal
/// Memory, Consistent Hash Algorithm", 2014) over a stable 64-bit hash of the
/// id (FNV-1a, then the SplitMix64 finalizer to spread its bits):
///
///     shard(id) = jump(splitmix64(fnv1a64(utf8(id))), shardCount)
///
/// - A chat's channel lives on `shard(chatId)`; a user's channel, presence
///   channel and presence keys on `shard(userId)`; the notification stream
///   partition a backend should add a user's entries to is also
///   `shard(userId)` (README, "Sharding the bus").
/// - **Adding a shard moves a known fraction**: going from n to n + 1 shards,
///   exactly the ids that now map to the new shard move, 1/(n + 1) of them in
///   expectation (a half from one to two shards, a third from two to three),
///   and none moves between the old shards. Removing the last shard moves
///   only its ids. The shards are identified by their place in `--bus`:
///   every node must list them in the same order, and new shards go at the end.
/// - Stable across processes, machines and versions (no seeded hasher), so
///   every node and any backend computes the same placement.
///
/// Threads: a value; any thread.
public struct ShardMap: Sendable, Equatable {
    public let count: Int

    /// - Parameter count: the number of shards, at least 1.
    public init(count: Int) {
        self.count = max(1, count)
    }

    /// The shard of a chat id or a user id, in `0..<count`.
    public func shard(of id: String) -> Int {
        count == 1 ? 0 : Self.jump(Self.hash(id), buckets: count)
    }

    /// The shard of `topic`'s channel: its chat's, or its user's.
    public func shard(of topic: Topic) -> Int {
        switch topic {
        case .chat(let chat): return shard(of: chat)
        case .user(let user), .presence(let user): return shard(of: user)
        }
    }

    /// The stable 64-bit hash of `id`: FNV-1a over its UTF-8 bytes, then the SplitMix64 finalizer.
    public static func hash(_ id: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01b3
        }
        h = (h ^ (h >> 30)) &* 0xbf58_476d_1ce4_e5b9
        h = (h ^ (h >> 27)) &* 0x94d0_49bb_1331_11eb
        return h ^ (h >> 31)
    }

    /// Jump consistent hash: the bucket of `key` among `buckets`.
    public static func jump(_ key: UInt64, buckets: Int) -> Int {
        var key = key
        var b: Int64 = -1
        var j: Int64 = 0
        while j < Int64(buckets) {
            b = j
            key = key &* 2_862_933_555_777_941_757 &+ 1
            j = Int64(Double(b + 1) * (Double(Int64(1) << 31) / Double((key >> 33) + 1)))
        }
        return Int(b)
    }
}
