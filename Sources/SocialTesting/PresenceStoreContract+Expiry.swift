import SocialCore

/// Sessions expire unless refreshed; sweeps take their users offline, once.
extension PresenceStoreContract {
    static let expiryChecks: [Check] = [
        Check("a session stops counting when its TTL passes, before any sweep") { store in
            typealias F = PresenceFixture
            let t = F.now
            try await F.set(store, "gus", F.session("phone", .training, "row"), ttl: 1000)
            try Expect.equal(try await store.get(["gus"], now: t + 999), [F.training("gus", "row")])
            try Expect.equal(try await store.get(["gus"], now: t + 1000), [F.offline("gus")])
            try Expect.equal(try await F.set(store, "gus", F.session("watch"), ttl: 1000, at: t + 1500),
                             F.change(F.offline("gus"), F.online("gus")), "the expired session is not counted")
        },
        Check("refresh keeps sessions alive past the TTL; it never creates nor revives one") { store in
            typealias F = PresenceFixture
            let t = F.now
            try await F.set(store, "hal", F.session("phone"), ttl: 1000)
            try await F.set(store, "hal", F.session("watch", .away), ttl: 1000)
            for k in Int64(1)...5 {
                try await store.refresh([("hal", "phone"), ("hal", "watch"), ("ivy", "ghost")], ttlMs: 1000, now: t + 800 * k)
            }
            // Last refreshed at t + 4000: both live until t + 5000.
            try Expect.equal(try await store.get(["hal", "ivy"], now: t + 4900), [F.online("hal"), F.offline("ivy")])
            try Expect.equal(try await store.sweep(now: t + 4900, limit: 100), [], "nothing expired")
            try Expect.equal(try await store.remove("hal", sessionId: "phone", now: t + 4900),
                             F.change(F.online("hal"), F.away("hal")))
            try await store.refresh([("hal", "phone"), ("ivy", "ghost")], ttlMs: 1000, now: t + 4950)
            try await store.refresh([], ttlMs: 1000, now: t + 4950)
            try Expect.equal(try await store.get(["hal", "ivy"], now: t + 4950), [F.away("hal"), F.offline("ivy")],
                             "the removed phone stays removed")
            try Expect.equal(try await store.sweep(now: t + 5000, limit: 100),
                             [F.change(F.away("hal"), F.offline("hal", lastSeen: t + 5000))])
            try await store.refresh([("hal", "watch")], ttlMs: 1000, now: t + 5100)
            try Expect.equal(try await store.get(["hal"], now: t + 5100), [F.offline("hal", lastSeen: t + 5000)],
                             "a swept session stays swept")
        },
        Check("sweep takes expired sessions offline once, lastSeen = their expiry") { store in
            typealias F = PresenceFixture
            let t = F.now
            try await F.set(store, "ann", F.session("phone", .training, "run"), ttl: 1000)
            try await F.set(store, "ann", F.session("watch"), ttl: 5000)
            try await F.set(store, "bob", F.session("phone", .away), ttl: 1000)
            try await F.set(store, "bob", F.session("tablet", .away), ttl: 1200)
            try await F.set(store, "cat", F.session("phone"), ttl: 5000)
            try Expect.equal(try await store.sweep(now: t + 999, limit: 100), [], "nothing expired yet")
            try Expect.equal(F.byUser(try await store.sweep(now: t + 2000, limit: 100)), [
                F.change(F.training("ann", "run"), F.online("ann")),
                F.change(F.away("bob"), F.offline("bob", lastSeen: t + 1200)),
            ], "before shows the expired sessions as they last looked")
            try Expect.equal(try await store.sweep(now: t + 2000, limit: 100), [], "reported once")
            try Expect.equal(try await store.get(["ann", "bob", "cat"], now: t + 2000),
                             [F.online("ann"), F.offline("bob", lastSeen: t + 1200), F.online("cat")])
            try Expect.equal(try await store.sweep(now: t + 6000, limit: 100).count, 2, "ann's watch and cat's phone")
            try Expect.equal(try await store.get(["ann", "cat"], now: t + 6000),
                             [F.offline("ann", lastSeen: t + 5000), F.offline("cat", lastSeen: t + 5000)])
        },
        Check("sweep takes at most limit single-session users per call, and all of them in the end") { store in
            typealias F = PresenceFixture
            let users = (0..<10).map { "u\($0)" }
            for user in users { try await F.set(store, user, F.session("phone"), ttl: 1000) }
            var swept: [PresenceChange] = []
            for expected in [3, 3, 3, 1, 0] {
                let changes = try await store.sweep(now: F.now + 1000, limit: 3)
                try Expect.equal(changes.count, expected, "changes after \(swept.count)")
                swept += changes
            }
            try Expect.equal(F.byUser(swept), users.map { F.change(F.online($0), F.offline($0, lastSeen: F.now + 1000)) })
            try Expect.equal(try await store.sweep(now: F.now + 1000, limit: 0), [], "limit 0")
        },
        Check("refresh, get and sweep handle hundreds of sessions and users at once") { store in
            typealias F = PresenceFixture
            let users = (0..<600).map { "many\($0)" }
            for user in users { try await F.set(store, user, F.session("s-\(user)"), ttl: 1000) }
            try await store.refresh(users.map { ($0, "s-\($0)") }, ttlMs: 1000, now: F.now + 900)
            try Expect.equal(try await store.sweep(now: F.now + 1500, limit: 1000), [], "all refreshed")
            try Expect.equal(try await store.get(users, now: F.now + 1500), users.map(F.online))
            let swept = try await store.sweep(now: F.now + 1900, limit: 1000)
            try Expect.equal(F.byUser(swept), F.byUser(users.map { F.change(F.online($0), F.offline($0, lastSeen: F.now + 1900)) }))
        },
    ]
}
