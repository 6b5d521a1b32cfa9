import SocialCore

/// One presence per user over all their sessions, and the before/after of
/// every `set` and `remove`.
extension PresenceStoreContract {
    static let aggregationChecks: [Check] = [
        Check("a first session takes the user online; more sessions change nothing others see") { store in
            typealias F = PresenceFixture
            try Expect.equal(try await F.set(store, "ann", F.session("phone")), F.change(F.offline("ann"), F.online("ann")))
            try Expect.equal(try await F.set(store, "ann", F.session("watch")), F.change(F.online("ann"), F.online("ann")))
            try Expect.equal(try await store.get(["ann"], now: F.now), [F.online("ann")])
        },
        Check("training wins, with the activity of the device that started training last") { store in
            typealias F = PresenceFixture
            let t = F.now
            try await F.set(store, "ann", F.session("phone"))
            try Expect.equal(try await F.set(store, "ann", F.session("watch", .training, "run", since: t + 1)),
                             F.change(F.online("ann"), F.training("ann", "run")))
            try Expect.equal(try await F.set(store, "ann", F.session("tablet", .away, since: t + 2)),
                             F.change(F.training("ann", "run"), F.training("ann", "run")), "away changes nothing")
            try Expect.equal(try await F.set(store, "ann", F.session("bike", .training, "ride", since: t + 3)),
                             F.change(F.training("ann", "run"), F.training("ann", "ride")), "the later training")
            try Expect.equal(try await F.set(store, "ann", F.session("bike", .online, since: t + 4)),
                             F.change(F.training("ann", "ride"), F.training("ann", "run")), "the watch still trains")
            try Expect.equal(try await F.set(store, "ann", F.session("watch", .training, nil, since: t + 5)),
                             F.change(F.training("ann", "run"), F.training("ann", nil)), "training without an activity")
            try Expect.equal(try await F.set(store, "ann", F.session("watch", .away, since: t + 6)),
                             F.change(F.training("ann", nil), F.online("ann")), "online beats away")
            try Expect.equal(try await store.get(["ann"], now: t + 7), [F.online("ann")])
        },
        Check("online beats away; away when every session is away") { store in
            typealias F = PresenceFixture
            try Expect.equal(try await F.set(store, "bo", F.session("phone", .away)), F.change(F.offline("bo"), F.away("bo")))
            try Expect.equal(try await F.set(store, "bo", F.session("tablet")), F.change(F.away("bo"), F.online("bo")))
            try Expect.equal(try await F.set(store, "bo", F.session("tablet", .away)), F.change(F.online("bo"), F.away("bo")))
            try Expect.equal(try await store.get(["bo"], now: F.now), [F.away("bo")])
        },
        Check("removing the last session takes the user offline with lastSeen = now") { store in
            typealias F = PresenceFixture
            let t = F.now
            try await F.set(store, "cy", F.session("phone"))
            try await F.set(store, "cy", F.session("watch", .training, "gym"))
            try Expect.equal(try await store.remove("cy", sessionId: "ghost", now: t + 5),
                             F.change(F.training("cy", "gym"), F.training("cy", "gym")), "an unknown session")
            try Expect.equal(try await store.remove("cy", sessionId: "watch", now: t + 10),
                             F.change(F.training("cy", "gym"), F.online("cy")))
            try Expect.equal(try await store.remove("cy", sessionId: "phone", now: t + 20),
                             F.change(F.online("cy"), F.offline("cy", lastSeen: t + 20)))
            try Expect.equal(try await store.remove("cy", sessionId: "phone", now: t + 30),
                             F.change(F.offline("cy", lastSeen: t + 20), F.offline("cy", lastSeen: t + 20)), "removed twice")
            try Expect.equal(try await store.get(["cy"], now: t + 40), [F.offline("cy", lastSeen: t + 20)])
            try Expect.equal(try await F.set(store, "cy", F.session("tablet"), at: t + 50),
                             F.change(F.offline("cy", lastSeen: t + 20), F.online("cy")), "back online")
            try Expect.equal(try await store.remove("nobody", sessionId: "x", now: t),
                             F.change(F.offline("nobody"), F.offline("nobody")), "an unknown user")
        },
        Check("get answers each user asked, in order, unknown users offline without lastSeen") { store in
            typealias F = PresenceFixture
            try await F.set(store, "dee", F.session("phone", .away))
            try await F.set(store, "eve", F.session("phone", .training, "swim"))
            try await F.set(store, "fay", F.session("phone"))
            _ = try await store.remove("fay", sessionId: "phone", now: F.now + 3)
            try Expect.equal(try await store.get([], now: F.now), [])
            try Expect.equal(try await store.get(["eve", "nobody", "dee", "fay", "eve"], now: F.now + 4),
                             [F.training("eve", "swim"), F.offline("nobody"), F.away("dee"),
                              F.offline("fay", lastSeen: F.now + 3), F.training("eve", "swim")])
        },
        Check("user ids and session ids may hold any text") { store in
            typealias F = PresenceFixture
            let users: [UserID] = ["a|b", "a", "a\\|b", "🏃‍♀️ ü", "x:ps:y", "|", "\\"]
            for (n, user) in users.enumerated() {
                try Expect.equal(try await F.set(store, user, F.session("s|\(n)\\", .training, "run \(n)"), ttl: 1000),
                                 F.change(F.offline(user), F.training(user, "run \(n)")), user)
            }
            try Expect.equal(try await store.get(users, now: F.now + 1),
                             users.enumerated().map { F.training($1, "run \($0)") })
            let swept = try await store.sweep(now: F.now + 1000, limit: 100)
            try Expect.equal(F.byUser(swept), F.byUser(users.enumerated().map {
                F.change(F.training($1, "run \($0)"), F.offline($1, lastSeen: F.now + 1000))
            }))
        },
    ]
}
