import Foundation
import SocialCore
import SocialRedis
import SocialTesting
import Testing

/// The presence store when Redis is killed, restarted, hung or down at startup.
/// Timed sections run on their own thread (`OwnThreadExecutor`), so they
/// measure the store, not a cooperative pool busy with other tests.
@Suite struct RedisPresenceOutageTests {
    let t: Int64 = 1_700_000_000_000
    let phone = SessionPresence(sessionId: "phone", deviceId: "p", state: .online, activity: nil, since: 1_700_000_000_000)

    @Test func callsFailUnavailableWithinSecondsWhenRedisIsKilledAndSucceedAfterARestart() async throws {
        let server = try RedisTestServer.start()
        let store = try PresenceNode(server).store
        defer { store.close() }
        #expect(try await store.set("ann", phone, ttlMs: 30_000, now: t).after.state == .online)

        server.kill()
        await OwnThreadExecutor.run {
            for (name, call) in calls(store) {
                let started = Date()
                await expectUnavailable(name, call)
                let took = Date().timeIntervalSince(started)
                #expect(took < fastPresenceSettings.commandTimeoutSeconds + 0.5, "\(name) failed after \(took) s")
            }
        }
        #expect(!store.isHealthy())

        try server.restart()
        #expect(await eventually(timeout: 5) { store.isHealthy() })
        // Redis restarted empty (no persistence): the user is known again once their node sets them.
        #expect(try await store.set("ann", phone, ttlMs: 30_000, now: t + 10) == PresenceChange(
            before: Presence(userId: "ann", state: .offline), after: Presence(userId: "ann", state: .online)))
        for (name, call) in calls(store) {
            do { try await call() } catch { Issue.record("\(name) after the restart: \(error)") }
        }
    }

    @Test func whileRedisIsDownCallsAreRefusedAtOnce() async throws {
        let server = try RedisTestServer.start()
        let store = try PresenceNode(server).store
        defer { store.close() }
        #expect(await eventually { store.isHealthy() })
        server.kill()
        #expect(await eventually { !store.isHealthy() }, "the idle connection's ping notices")
        let t = self.t
        await OwnThreadExecutor.run {
            let clock = ContinuousClock()
            var slowest = Duration.zero
            for n in 0..<1000 {
                let took = await clock.measure {
                    await expectUnavailable("get \(n)") { _ = try await store.get(["u\(n)"], now: t) }
                }
                slowest = max(slowest, took)
            }
            #expect(slowest < .milliseconds(50), "slowest refusal took \(slowest)")
        }
    }

    @Test func callsWaitingOnAHungRedisAllFailWithinTheCommandTimeout() async throws {
        let server = try RedisTestServer.start()
        let store = try PresenceNode(server).store
        defer { store.close() }
        _ = try await store.set("ann", phone, ttlMs: 30_000, now: t)
        server.pause()
        defer { server.resume() }
        let t = self.t
        await OwnThreadExecutor.run {
            let started = Date()
            let failures = await withTaskGroup(of: Bool.self) { group in
                for n in 0..<100 {
                    group.addTask {
                        do {
                            _ = try await store.get(["ann", "u\(n)"], now: t)
                            return false
                        } catch let error as StoreError {
                            return error.isTemporary
                        } catch {
                            return false
                        }
                    }
                }
                return await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            let took = Date().timeIntervalSince(started)
            #expect(failures == 100)
            #expect(took < fastPresenceSettings.commandTimeoutSeconds + 1, "100 calls failed after \(took) s")
        }

        server.resume()
        #expect(await eventually(timeout: 5) { store.isHealthy() })
        #expect(try await store.get(["ann"], now: t + 1) == [Presence(userId: "ann", state: .online)])
    }

    @Test func redisDownAtStartupFailsCallsUntilItIsUp() async throws {
        let server = try RedisTestServer.start()
        server.kill()
        let store = try PresenceNode(server).store
        defer { store.close() }
        let t = self.t
        await OwnThreadExecutor.run {
            let started = Date()
            await expectUnavailable("a call before the first connect failed") { _ = try await store.get(["ann"], now: t) }
            #expect(Date().timeIntervalSince(started) < fastPresenceSettings.connectTimeoutSeconds + 0.5)
        }
        try server.restart()
        #expect(await eventually(timeout: 5) { store.isHealthy() })
        #expect(try await store.get(["ann"], now: t) == [Presence(userId: "ann", state: .offline)])
    }

    @Test func scriptsFlushedFromRedisAreSentAgain() async throws {
        let server = try RedisTestServer.start()
        let store = try PresenceNode(server).store
        defer { store.close() }
        _ = try await store.set("ann", phone, ttlMs: 30_000, now: t)
        #expect(try server.command("SCRIPT", "FLUSH") == .simple("OK"))
        #expect(try await store.remove("ann", sessionId: "phone", now: t + 1).after
            == Presence(userId: "ann", state: .offline, lastSeen: t + 1))
        #expect(try server.command("SCRIPT", "FLUSH") == .simple("OK"))
        try await store.refresh((0..<600).map { ("u\($0)", "s") }, ttlMs: 30_000, now: t + 2)  // three script calls, pipelined
        #expect(try await store.get(["ann"], now: t + 3) == [Presence(userId: "ann", state: .offline, lastSeen: t + 1)])
        #expect(store.isHealthy(), "NOSCRIPT is not a connection failure")
    }

    @Test func aClosedStoreRefusesCalls() async throws {
        let server = try RedisTestServer.start()
        let store = try PresenceNode(server).store
        _ = try await store.set("ann", phone, ttlMs: 30_000, now: t)
        store.close()
        store.close()
        await expectUnavailable("set after close") { _ = try await store.set("ann", phone, ttlMs: 30_000, now: t) }
        #expect(!store.isHealthy())
    }

    /// One call of each operation.
    private func calls(_ store: RedisPresenceStore) -> [(String, @Sendable () async throws -> Void)] {
        let t = self.t, phone = self.phone
        return [
            ("set", { _ = try await store.set("ann", phone, ttlMs: 30_000, now: t) }),
            ("remove", { _ = try await store.remove("ann", sessionId: "phone", now: t) }),
            ("refresh", { try await store.refresh([("ann", "phone")], ttlMs: 30_000, now: t) }),
            ("sweep", { _ = try await store.sweep(now: t, limit: 100) }),
            ("get", { _ = try await store.get(["ann"], now: t) }),
        ]
    }
}

/// Expects `body` to throw a temporary `StoreError` (`unavailable`).
func expectUnavailable(_ what: String, sourceLocation: SourceLocation = #_sourceLocation,
                       _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("\(what): succeeded, expected unavailable", sourceLocation: sourceLocation)
    } catch let error as StoreError {
        #expect(error.isTemporary, "\(what): \(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("\(what): threw \(error), expected unavailable", sourceLocation: sourceLocation)
    }
}
