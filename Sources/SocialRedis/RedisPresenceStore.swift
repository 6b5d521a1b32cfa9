import Foundation
import Logging
import SocialCore

/// Presence shared by every gateway node, in Redis: the distributed
/// `PresenceStore`. It behaves like `MemoryPresenceStore` (the same contract
/// checks run against both), and a node that dies takes its users offline
/// once its sessions expire and any node sweeps.
///
/// **Data** (keys under `settings.keyPrefix`, default `sg`; see `PresenceKeys`):
/// - `sg:ps:<user>`, a hash: session id → the session's JSON (`PresenceCodec`).
///   It lives `sessionKeyGraceSeconds` past the last expiry set or refreshed,
///   so the keys of users nobody sweeps vanish by themselves.
/// - `sg:pe`, one sorted set for all users: member `<user>|<session id>`,
///   scored by the session's expiry in ms. A session is live while its expiry
///   is after `now`; `sweep` finds the expired ones with `ZRANGEBYSCORE`.
/// - `sg:pl:<user>`, a string: the user's `lastSeen` in ms, kept
///   `lastSeenRetentionSeconds` after it was written.
///
/// **Operations**: each is one Lua script per user (`PresenceScripts`), so its
/// read-modify-write is atomic and its before/after exact even when nodes race;
/// Swift computes presence from the sessions the script returns, with
/// `Presence.aggregate`. `refresh` sends up to `scriptBatchSize` sessions per
/// script call and `get` as many users; `sweep` reads up to `limit` expired
/// members, then runs one script per user they belong to, all pipelined.
/// In the sweep script a session is removed by whichever node's `ZREM`
/// deletes it, so when every node sweeps, each change is reported once.
///
/// **Shards**: with several Redis URLs, each user's keys live on the shard
/// `ShardMap` gives the user id, and each shard has its own `sg:pe` for its
/// users (one worker thread and connection per shard). A call about users of
/// one shard needs only that shard; `refresh` and `get` split their users by
/// shard and run the parts at once; `sweep` sweeps every shard and returns
/// the changes of those that answered (a shard that is down is swept once it
/// is back), failing only when none answered.
///
/// **Time**: expiry compares the callers' `now` values, so nodes' clocks
/// should agree to well under the TTL. Key TTLs run on Redis's clock.
///
/// **Threads**: the async methods may be called from any task, concurrently.
/// They never block: the blocking hiredis calls run on the store's own thread
/// (`PresenceWorker`), which pipelines concurrent calls over one connection;
/// callers suspend until their replies arrive. When Redis is unreachable,
/// calls fail with `StoreError.unavailable` at once (within the command
/// timeout for calls already on the wire) until the thread reconnects.
/// A call that fails this way may or may not have been applied.
public final class RedisPresenceStore: PresenceStore {
    public typealias Settings = RedisPresenceSettings

    /// The shards, in `ShardMap` order.
    public let urls: [RedisURL]
    public let settings: Settings
    public let map: ShardMap
    private let keys: PresenceKeys
    private let logger: Logger
    private let workers: [PresenceWorker]

    /// Starts the store's threads (one per shard); they connect in the
    /// background, so Redis need not be up yet (`isHealthy()` says when it
    /// is). Calls made before the first connect attempt ends wait for it.
    /// - Parameters:
    ///   - url: `redis://host[:port][/db]` (see `RedisURL`; the keys go in
    ///     `db`), or several separated by commas: the shards, in the same
    ///     order on every node (the bus's `--bus` list).
    ///   - logger: connection changes and sessions stored in a form this
    ///     version cannot read.
    ///   - settings: timings, limits, key prefix; the defaults suit production.
    /// - Throws: `RedisBusError.invalidURL` for a bad URL or list.
    public init(url: String, logger: Logger, settings: Settings = Settings()) throws {
        let urls = try RedisURL.list(parsing: url)
        let settings = settings.clamped
        self.urls = urls
        self.settings = settings
        self.keys = PresenceKeys(prefix: settings.keyPrefix)
        self.logger = logger
        map = ShardMap(count: urls.count)
        workers = urls.enumerated().map { index, url in
            var shardLogger = logger
            if urls.count > 1 { shardLogger[metadataKey: "shard"] = "\(index)" }
            return PresenceWorker(url: url, settings: settings, logger: shardLogger)
        }
    }

    deinit { for worker in workers { worker.stop() } }

    /// The first shard's URL (the only one without shards).
    public var url: RedisURL { urls[0] }

    /// The connection to every shard is up.
    public func isHealthy() -> Bool { workers.allSatisfy(\.isConnected) }

    /// Whether the store serves anyone: its one Redis is up, or at least one
    /// of its shards is (the users of the others get `unavailable`).
    public func isServing() -> Bool { workers.contains(where: \.isConnected) }

    /// Stops the store's threads and waits for them to exit; later calls fail
    /// with `unavailable`. Blocks up to the connect or command timeout: not on
    /// the lws service thread nor the cooperative pool's hot paths. Idempotent.
    public func close() {
        for worker in workers { worker.stop() }
        for worker in workers { worker.waitUntilExited() }
    }

    public func set(_ user: UserID, _ session: SessionPresence, ttlMs: Int64, now: Int64) async throws -> PresenceChange {
        let reply = try await perform(on: map.shard(of: user), [.script(.set, keys: userKeys(user), arguments: [
            PresenceKeys.memberPrefix(user), session.sessionId, PresenceCodec.encode(session),
            String(now), String(now + ttlMs), String(sessionKeyTTL(ttlMs)),
        ])])[0]
        return try change(user, PresenceCodec.elements(reply, "presence set")[...])
    }

    public func remove(_ user: UserID, sessionId: String, now: Int64) async throws -> PresenceChange {
        let reply = try await perform(on: map.shard(of: user), [.script(.remove, keys: userKeys(user), arguments: [
            PresenceKeys.memberPrefix(user), sessionId, String(now), String(lastSeenRetentionMs),
        ])])[0]
        return try change(user, PresenceCodec.elements(reply, "presence remove")[...])
    }

    public func refresh(_ sessions: [(user: UserID, sessionId: String)], ttlMs: Int64, now: Int64) async throws {
        guard !sessions.isEmpty else { return }
        let fixed = [String(now + ttlMs), String(sessionKeyTTL(ttlMs))]
        let parts = byShard(sessions) { $0.user }
        try await eachShard(parts.keys) { shard in
            let mine = parts[shard, default: []].map { sessions[$0] }
            let calls: [PresenceCall] = stride(from: 0, to: mine.count, by: self.settings.scriptBatchSize).map { start in
                let chunk = mine[start..<min(start + self.settings.scriptBatchSize, mine.count)]
                return .script(.refresh, keys: [self.keys.expiries] + chunk.map { self.keys.sessions($0.user) },
                               arguments: fixed + chunk.flatMap { [PresenceKeys.member($0.user, $0.sessionId), $0.sessionId] })
            }
            for reply in try await self.perform(on: shard, calls) {
                guard case .integer = reply else { throw PresenceCodec.unexpected("a count of refreshed sessions", reply) }
            }
        }
    }

    public func sweep(now: Int64, limit: Int) async throws -> [PresenceChange] {
        guard limit > 0 else { return [] }
        guard workers.count > 1 else { return try await sweep(shard: 0, now: now, limit: limit) }
        // Every shard, at once; the changes of those that answered (they are applied: dropping them would lose them).
        let results = await withTaskGroup(of: Result<[PresenceChange], any Error>.self) { group in
            for shard in workers.indices {
                group.addTask {
                    do { return .success(try await self.sweep(shard: shard, now: now, limit: limit)) } catch { return .failure(error) }
                }
            }
            var all: [Result<[PresenceChange], any Error>] = []
            for await result in group { all.append(result) }
            return all
        }
        var changes: [PresenceChange] = []
        var failure: (any Error)?
        for result in results {
            switch result {
            case .success(let some): changes += some
            case .failure(let error): failure = error
            }
        }
        let answered = results.contains { if case .success = $0 { return true } else { return false } }
        if !answered, let failure { throw failure }
        return changes
    }

    /// One shard's sweep: its expired members, then one script per user they belong to.
    private func sweep(shard: Int, now: Int64, limit: Int) async throws -> [PresenceChange] {
        let found = try await perform(on: shard, [.command(RedisCommand(
            "ZRANGEBYSCORE", keys.expiries, "-inf", String(now), "LIMIT", "0", String(limit)))])[0]
        var users: [UserID] = []
        var expired: [UserID: [String]] = [:]
        var foreign: [[UInt8]] = []
        for item in try PresenceCodec.elements(found, "ZRANGEBYSCORE") {
            guard case .bulk(let member) = item else { throw PresenceCodec.unexpected("a member", item) }
            guard let parsed = PresenceKeys.parseMember(member) else {
                foreign.append(member)
                continue
            }
            if expired[parsed.user] == nil { users.append(parsed.user) }
            expired[parsed.user, default: []].append(parsed.sessionId)
        }
        var calls: [PresenceCall] = users.map { user in
            .script(.sweepUser, keys: userKeys(user), arguments: [
                PresenceKeys.memberPrefix(user), String(now), String(lastSeenRetentionMs),
            ] + expired[user, default: []])
        }
        if !foreign.isEmpty {
            // Not written by this store: dropped, or they would fill every sweep's `limit`.
            logger.warning("presence sweep drops malformed expiry members", metadata: ["count": "\(foreign.count)"])
            var zrem = RedisCommand("ZREM", keys.expiries)
            for member in foreign { zrem.argument(member) }
            calls.append(.command(zrem))
        }
        guard !calls.isEmpty else { return [] }
        let replies = try await perform(on: shard, calls)
        var changes: [PresenceChange] = []
        for (user, reply) in zip(users, replies) {
            let items = try PresenceCodec.elements(reply, "presence sweep")
            guard let removed = items.first, removed != .integer(0) else { continue }  // another node took them
            changes.append(try change(user, items.dropFirst()))
        }
        return changes
    }

    public func get(_ users: [UserID], now: Int64) async throws -> [Presence] {
        guard !users.isEmpty else { return [] }
        let parts = byShard(users) { $0 }
        let found = Slots<Presence?>(count: users.count, initial: nil)
        try await eachShard(parts.keys) { shard in
            let indices = parts[shard, default: []]
            let mine = indices.map { users[$0] }
            for (index, presence) in zip(indices, try await self.get(shard: shard, mine, now: now)) {
                found.set(index, presence)
            }
        }
        return found.values.compactMap { $0 }
    }

    /// The presence of `users`, all of them on `shard`, in their order.
    private func get(shard: Int, _ users: [UserID], now: Int64) async throws -> [Presence] {
        let calls: [PresenceCall] = stride(from: 0, to: users.count, by: settings.scriptBatchSize).map { start in
            let chunk = users[start..<min(start + settings.scriptBatchSize, users.count)]
            return .script(.get, keys: [keys.expiries] + chunk.flatMap { [keys.sessions($0), keys.lastSeen($0)] },
                           arguments: [String(now)] + chunk.map { PresenceKeys.memberPrefix($0) })
        }
        let replies = try await perform(on: shard, calls)
        var presence: [Presence] = []
        presence.reserveCapacity(users.count)
        for reply in replies {
            for item in try PresenceCodec.elements(reply, "presence get") {
                let pair = try PresenceCodec.elements(item, "presence get")
                guard pair.count == 2, presence.count < users.count else {
                    throw PresenceCodec.unexpected("{lastSeen, sessions}", item)
                }
                let user = users[presence.count]
                presence.append(try PresenceCodec.presence(user, lastSeen: pair[0], sessions: pair[1], skipped: skipper(user)))
            }
        }
        guard presence.count == users.count else {
            throw StoreError.unavailable("redis answered \(presence.count) presences for \(users.count) users")
        }
        return presence
    }

    // MARK: Helpers

    /// Runs `calls` on `shard`'s thread in one pipeline; suspends until
    /// their replies (one per call, in order) arrive or the call fails.
    private func perform(on shard: Int, _ calls: [PresenceCall]) async throws -> [RedisReply] {
        try await withCheckedThrowingContinuation { continuation in
            workers[shard].submit(PresenceJob(calls: calls) { result in
                continuation.resume(with: result.mapError { $0 as any Error })
            })
        }
    }

    /// The indices of `items` by the shard of their user.
    private func byShard<Item>(_ items: [Item], user: (Item) -> UserID) -> [Int: [Int]] {
        guard workers.count > 1 else { return [0: Array(items.indices)] }
        var parts: [Int: [Int]] = [:]
        for (index, item) in items.enumerated() { parts[map.shard(of: user(item)), default: []].append(index) }
        return parts
    }

    /// Runs `body` for every shard in `shards` at once; throws the first
    /// failure once all have finished (the others' work is done).
    private func eachShard(_ shards: some Collection<Int>, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        if shards.count == 1, let only = shards.first { return try await body(only) }
        let failures = await withTaskGroup(of: (any Error)?.self) { group in
            for shard in shards {
                group.addTask {
                    do { try await body(shard); return nil } catch { return error }
                }
            }
            var first: (any Error)?
            for await failure in group where first == nil { first = failure }
            return first
        }
        if let failures { throw failures }
    }

    private func userKeys(_ user: UserID) -> [String] {
        [keys.sessions(user), keys.lastSeen(user), keys.expiries]
    }

    private func change(_ user: UserID, _ reply: ArraySlice<RedisReply>) throws -> PresenceChange {
        try PresenceCodec.change(user, reply, skipped: skipper(user))
    }

    private func skipper(_ user: UserID) -> (String) -> Void {
        { [logger] stored in
            logger.warning("presence store skips a session it cannot read", metadata: ["user": "\(user)", "stored": "\(stored)"])
        }
    }

    /// The session hash's TTL after a set or refresh with `ttlMs`.
    private func sessionKeyTTL(_ ttlMs: Int64) -> Int64 {
        max(0, ttlMs) + Int64(settings.sessionKeyGraceSeconds * 1000)
    }

    private var lastSeenRetentionMs: Int64 { Int64(settings.lastSeenRetentionSeconds * 1000) }
}
