import Foundation
import Logging
import SocialCore
import SocialRedis
import SocialTesting
import Testing

/// What the presence store leaves in Redis: the documented keys, their TTLs,
/// and nothing that outlives its use.
@Suite struct RedisPresenceLayoutTests {
    let t: Int64 = 1_700_000_000_000

    @Test func keysFollowTheDocumentedLayoutUnderThePrefix() async throws {
        let server = try RedisTestServer.start()
        var settings = fastPresenceSettings
        settings.keyPrefix = "fit"
        settings.lastSeenRetentionSeconds = 3600
        let store = try PresenceNode(server, settings: settings).store
        defer { store.close() }
        let watch = SessionPresence(sessionId: "gw1-7", deviceId: "watch", state: .training, activity: "run", since: t)
        var written = Date()
        _ = try await store.set("a|b", watch, ttlMs: 30_000, now: t)

        let stored = try #require(try server.command("HGET", "fit:ps:a|b", "gw1-7").text)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(stored.utf8)) as? [String: Any])
        #expect(json["sessionId"] as? String == "gw1-7" && json["deviceId"] as? String == "watch")
        #expect(json["state"] as? String == "training" && json["activity"] as? String == "run")
        #expect((json["since"] as? NSNumber)?.int64Value == t)
        #expect(try server.command("ZSCORE", "fit:pe", "a\\|b|gw1-7").text == String(t + 30_000))
        let hashTTL = try #require(try server.command("PTTL", "fit:ps:a|b").integer)
        #expect(hashTTL > 30_000 + 60_000 - elapsedMs(since: written) && hashTTL <= 30_000 + 60_000,
                "the TTL plus the grace: \(hashTTL)")
        #expect(try server.command("EXISTS", "sg:pe").integer == 0, "nothing under the default prefix")

        written = Date()
        _ = try await store.remove("a|b", sessionId: "gw1-7", now: t + 5)
        #expect(try server.command("GET", "fit:pl:a|b").text == String(t + 5))
        let seenTTL = try #require(try server.command("PTTL", "fit:pl:a|b").integer)
        #expect(seenTTL > 3_600_000 - elapsedMs(since: written) && seenTTL <= 3_600_000, "lastSeen retention: \(seenTTL)")
        #expect(try server.command("EXISTS", "fit:ps:a|b", "fit:pe").integer == 0, "an empty hash and set are deleted")
    }

    @Test func theKeysOfUsersNobodySweepsVanishAndTheSweepStillCleansUp() async throws {
        let server = try RedisTestServer.start()
        var settings = fastPresenceSettings
        settings.sessionKeyGraceSeconds = 1
        let store = try PresenceNode(server, settings: settings).store
        defer { store.close() }
        let phone = SessionPresence(sessionId: "s1", deviceId: "phone", state: .online, activity: nil, since: t)
        _ = try await store.set("ann", phone, ttlMs: 100, now: t)
        #expect(await eventually(timeout: 5) { (try? server.command("EXISTS", "sg:ps:ann").integer) == 0 })

        // The expiry set has no TTL: a later sweep removes the member and records when the session ended.
        #expect(try await store.sweep(now: t + 100, limit: 10) == [PresenceChange(
            before: Presence(userId: "ann", state: .offline), after: Presence(userId: "ann", state: .offline, lastSeen: t + 100))])
        #expect(try server.command("EXISTS", "sg:pe").integer == 0)
        #expect(try await store.sweep(now: t + 100, limit: 10) == [])
    }

    @Test func theURLsDatabaseHoldsTheKeys() async throws {
        let server = try RedisTestServer.start()
        var logger = Logger(label: "redis-presence-test.db")
        logger.logLevel = .warning
        let store = try RedisPresenceStore(url: server.url + "/3", logger: logger, settings: fastPresenceSettings)
        defer { store.close() }
        let phone = SessionPresence(sessionId: "s1", deviceId: "phone", state: .away, activity: nil, since: t)
        _ = try await store.set("ann", phone, ttlMs: 30_000, now: t)
        let keyspace = try #require(try server.command("INFO", "keyspace").text)
        #expect(keyspace.contains("db3:keys=2"), "\(keyspace)")
        #expect(!keyspace.contains("db0:"))
        #expect(try await store.get(["ann"], now: t) == [Presence(userId: "ann", state: .away)])
    }

    @Test func entriesThisVersionCannotReadAreSkipped() async throws {
        let server = try RedisTestServer.start()
        let store = try PresenceNode(server).store
        defer { store.close() }
        let phone = SessionPresence(sessionId: "s1", deviceId: "phone", state: .away, activity: nil, since: t)
        _ = try await store.set("ann", phone, ttlMs: 30_000, now: t)
        for (id, json) in [("s2", "{not json"), ("s3", #"{"sessionId":"s3","deviceId":"d","state":"asleep","since":1}"#)] {
            _ = try server.command("HSET", "sg:ps:ann", id, json)
            _ = try server.command("ZADD", "sg:pe", String(t + 30_000), "ann|\(id)")
        }
        _ = try server.command("ZADD", "sg:pe", "1", "no-bar-here")
        #expect(try await store.get(["ann"], now: t) == [Presence(userId: "ann", state: .away)], "unreadable sessions do not count")
        #expect(try await store.sweep(now: t, limit: 1) == [], "a foreign member is dropped, not reported")
        #expect(try server.command("ZSCORE", "sg:pe", "no-bar-here") == .bulk(nil))
        #expect(try await store.remove("ann", sessionId: "s1", now: t + 1).after == Presence(userId: "ann", state: .offline))
        #expect(try server.command("HLEN", "sg:ps:ann").integer == 2, "what it cannot read, it leaves to the version that wrote it")
    }
}

/// Milliseconds since `start`, rounded up, plus one for Redis's rounding of TTLs.
private func elapsedMs(since start: Date) -> Int {
    Int((Date().timeIntervalSince(start) * 1000).rounded(.up)) + 1
}
