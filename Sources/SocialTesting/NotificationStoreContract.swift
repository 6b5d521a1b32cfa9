import SocialCore
import SocialProtocol

/// The checks every `NotificationStore` passes, whatever its backend; run
/// like `StoreContract`:
///
/// ```swift
/// @Test(arguments: NotificationStoreContract.checks)
/// func memory(_ check: NotificationStoreContract.Check) async throws {
///     try await check.run { MemoryNotificationStore() }
/// }
/// ```
public enum NotificationStoreContract {
    public typealias Factory = () async throws -> any NotificationStore

    /// One named check of the contract.
    public typealias Check = ContractCheck<any NotificationStore>

    static let now = Fixture.now

    static func draft(_ title: String, key: String? = nil, priority: NotificationPriority = .normal,
                      expiresAt: Int64? = nil) -> NotificationDraft {
        NotificationDraft(type: "kudos", title: title, body: "body of \(title)",
                          data: .object(["link": .string("app://x/\(title)"), "n": .number(1)]),
                          priority: priority, expiresAt: expiresAt, key: key)
    }

    @discardableResult
    static func create(_ store: any NotificationStore, _ user: UserID, _ title: String, key: String? = nil,
                       held: Bool = false, expiresAt: Int64? = nil) async throws -> Notification {
        try await store.createNotification(draft(title, key: key, expiresAt: expiresAt), for: user, held: held,
                                           push: held ? .held : .skipped, now: now).notification
    }

    /// Every check, in a stable order.
    public static let checks: [Check] = [
        Check("ids count up per user, from 1, and the stored fields come back") { store in
            let a1 = try await create(store, "ann", "a1")
            let a2 = try await create(store, "ann", "a2")
            let b1 = try await create(store, "bob", "b1")
            try Expect.equal([a1.id, a2.id, b1.id], [1, 2, 1])
            let listed = try await store.notifications(of: "ann", before: nil, unreadOnly: false, limit: 10, now: now)
            try Expect.equal(listed, [a2, a1], "newest first, as created")
            try Expect.equal(listed.last?.draft, draft("a1"))
            try Expect.equal(listed.last?.status, .unread)
            try Expect.equal(listed.last?.createdAt, now)
        },
        Check("a retried create with the same key returns the first, and stores nothing") { store in
            let first = try await store.createNotification(draft("x", key: "k1"), for: "ann", held: false, push: .skipped, now: now)
            let again = try await store.createNotification(draft("other title", key: "k1"), for: "ann", held: false,
                                                           push: .pending, now: now + 5)
            try Expect.that(first.created, "the first create creates")
            try Expect.that(!again.created, "the retry does not")
            try Expect.equal(again.notification, first.notification)
            let other = try await store.createNotification(draft("x", key: "k1"), for: "bob", held: false, push: .skipped, now: now)
            try Expect.that(other.created, "keys are per user")
            let all = try await store.notifications(of: "ann", before: nil, unreadOnly: false, limit: 10, now: now)
            try Expect.equal(all.count, 1)
            try Expect.equal(try await store.unreadNotifications(of: "ann", now: now), 1)
        },
        Check("concurrent creates with one key store one; without keys each gets its own id") { store in
            let results = try await withThrowingTaskGroup(of: (Notification, Bool).self) { group in
                for _ in 0..<8 {
                    group.addTask { try await store.createNotification(draft("same", key: "k"), for: "ann", held: false,
                                                                       push: .skipped, now: now) }
                }
                for i in 0..<8 {
                    group.addTask { try await store.createNotification(draft("n\(i)"), for: "ann", held: false,
                                                                       push: .skipped, now: now) }
                }
                var all: [(Notification, Bool)] = []
                for try await result in group { all.append(result) }
                return all
            }
            let keyed = results.filter { $0.0.draft.key == "k" }
            try Expect.equal(keyed.filter(\.1).count, 1, "one created with the key")
            try Expect.equal(Set(keyed.map(\.0.id)).count, 1, "every retry got the same notification")
            let ids = results.filter { $0.1 }.map(\.0.id)
            try Expect.equal(Set(ids).count, 9, "distinct ids")
            try Expect.equal(try await store.notifications(of: "ann", before: nil, unreadOnly: false, limit: 100, now: now).count, 9)
        },
        Check("list pages with before, filters unread, leaves expired ones out; sync reads after a position") { store in
            for i in 1...5 { try await create(store, "ann", "n\(i)") }
            try await create(store, "ann", "gone", expiresAt: now + 10)
            func ids(before: Int64? = nil, unread: Bool = false, limit: Int = 10, at: Int64 = now) async throws -> [Int64] {
                try await store.notifications(of: "ann", before: before, unreadOnly: unread, limit: limit, now: at).map(\.id)
            }
            try Expect.equal(try await ids(), [6, 5, 4, 3, 2, 1])
            try Expect.equal(try await ids(at: now + 10), [5, 4, 3, 2, 1], "expired at its expiry")
            try Expect.equal(try await ids(before: 4, limit: 2), [3, 2])
            try Expect.equal(try await ids(limit: 0), [])
            _ = try await store.ackNotifications(of: "ann", upTo: nil, ids: [2, 4], status: .read, now: now)
            try Expect.equal(try await ids(unread: true), [6, 5, 3, 1])
            let after = try await store.notifications(of: "ann", after: 2, limit: 2, now: now).map(\.id)
            try Expect.equal(after, [3, 4], "oldest first after the position")
            try Expect.equal(try await store.notifications(of: "ann", after: 4, limit: 10, now: now + 10).map(\.id), [5])
            try Expect.equal(try await store.notifications(of: "nobody", before: nil, unreadOnly: false, limit: 5, now: now), [])
        },
        Check("ack up to an id or a list; dismissed stays dismissed; the badge follows") { store in
            for i in 1...5 { try await create(store, "ann", "n\(i)") }
            try await create(store, "bob", "b")
            try Expect.equal(try await store.unreadNotifications(of: "ann", now: now), 5)
            try Expect.equal(try await store.ackNotifications(of: "ann", upTo: 2, ids: [], status: .read, now: now), 2)
            try Expect.equal(try await store.ackNotifications(of: "ann", upTo: 3, ids: [], status: .read, now: now), 1,
                             "already read ones do not count")
            try Expect.equal(try await store.ackNotifications(of: "ann", upTo: nil, ids: [1, 5], status: .dismissed, now: now), 2)
            try Expect.equal(try await store.ackNotifications(of: "ann", upTo: 5, ids: [], status: .read, now: now), 1,
                             "only 4: 1 and 5 are dismissed, 2 and 3 read")
            try Expect.equal(try await store.unreadNotifications(of: "ann", now: now), 0)
            try Expect.equal(try await store.unreadNotifications(of: "bob", now: now), 1, "other users untouched")
            let listed = try await store.notifications(of: "ann", before: nil, unreadOnly: false, limit: 10, now: now)
            try Expect.equal(listed.map(\.status), [.dismissed, .read, .read, .read, .dismissed])
            try Expect.equal(try await store.ackNotifications(of: "ann", upTo: nil, ids: [99], status: .read, now: now), 0)
        },
        Check("expired notifications leave the badge") { store in
            try await create(store, "ann", "a", expiresAt: now + 100)
            try await create(store, "ann", "b")
            try Expect.equal(try await store.unreadNotifications(of: "ann", now: now + 99), 2)
            try Expect.equal(try await store.unreadNotifications(of: "ann", now: now + 100), 1)
        },
        Check("held notifications are claimed once, oldest first, bounded") { store in
            try await create(store, "ann", "live")
            for i in 1...5 { try await create(store, "ann", "held\(i)", held: true) }
            try await create(store, "bob", "bob held", held: true)
            let first = try await store.claimHeldNotifications(of: "ann", limit: 3)
            try Expect.equal(first.map(\.id), [2, 3, 4])
            try Expect.that(first.allSatisfy { !$0.held }, "claimed ones are no longer held")
            try Expect.equal(try await store.claimHeldNotifications(of: "ann", limit: 10).map(\.id), [5, 6])
            try Expect.equal(try await store.claimHeldNotifications(of: "ann", limit: 10), [])
            try Expect.equal(try await store.claimHeldNotifications(of: "bob", limit: 10).map(\.id), [1])
        },
        Check("concurrent claims split the held notifications: each in exactly one claim") { store in
            for i in 1...20 { try await create(store, "ann", "h\(i)", held: true) }
            let claims = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for _ in 0..<6 { group.addTask { try await store.claimHeldNotifications(of: "ann", limit: 100).map(\.id) } }
                var all: [[Int64]] = []
                for try await ids in group { all.append(ids) }
                return all
            }
            let ids = claims.flatMap { $0 }
            try Expect.equal(ids.sorted(), Array(1...20), "every held one claimed exactly once")
        },
        Check("the push state is recorded per notification") { store in
            for i in 1...3 { try await create(store, "ann", "n\(i)") }
            try await store.setPushState(.sent, of: "ann", ids: [1, 3])
            try await store.setPushState(.failed, of: "ann", ids: [2])
            try await store.setPushState(.failed, of: "bob", ids: [1])
            let listed = try await store.notifications(of: "ann", before: nil, unreadOnly: false, limit: 10, now: now)
            try Expect.equal(listed.map(\.push), [.sent, .failed, .sent])
        },
        Check("a push whose lease ended comes back once, with its notifications and kind") { store in
            // ann: a push of its own, created pending; bob: a digest of two.
            let single = try await store.createNotification(draft("s"), for: "ann", held: false, push: .pending,
                                                            pushLeaseUntil: now + 100, now: now).notification
            for i in 1...3 { try await create(store, "bob", "b\(i)", held: true) }
            try await store.beginPush(of: "bob", ids: [2, 3], digest: true, leaseUntil: now + 200)
            try Expect.equal(try await store.claimStalledPushes(now: now + 50, leaseUntil: now + 1000, limit: 10), [],
                             "leased pushes are not taken")
            let first = try await store.claimStalledPushes(now: now + 150, leaseUntil: now + 1000, limit: 10)
            try Expect.equal(first.map(\.userId), ["ann"])
            try Expect.equal(first.first?.ids, [single.id])
            try Expect.equal(first.first?.digest, false)
            try Expect.equal(first.first?.notifications.first?.draft, draft("s"))
            let second = try await store.claimStalledPushes(now: now + 300, leaseUntil: now + 1000, limit: 10)
            try Expect.equal(second.map(\.userId), ["bob"], "a claimed push is leased anew, so only bob's comes")
            try Expect.equal(second.first?.ids, [2, 3])
            try Expect.equal(second.first?.digest, true)
            let listed = try await store.notifications(of: "bob", before: nil, unreadOnly: false, limit: 10, now: now)
            try Expect.equal(listed.map(\.push), [.pending, .pending, .held])
        },
        Check("a push recorded sent or failed is never taken up again") { store in
            for i in 1...2 {
                _ = try await store.createNotification(draft("n\(i)"), for: "ann", held: false, push: .pending,
                                                       pushLeaseUntil: now, now: now)
            }
            try await store.setPushState(.sent, of: "ann", ids: [1])
            try await store.setPushState(.failed, of: "ann", ids: [2])
            try Expect.equal(try await store.claimStalledPushes(now: now + 10, leaseUntil: now + 20, limit: 10), [])
        },
        Check("a released push is taken up at once; concurrent claims take each push once") { store in
            for i in 1...12 {
                _ = try await store.createNotification(draft("n\(i)"), for: "u\(i % 3)", held: false, push: .pending,
                                                       pushLeaseUntil: now + 60_000, now: now)
            }
            try Expect.equal(try await store.claimStalledPushes(now: now + 1, leaseUntil: now + 2, limit: 100), [])
            for user in ["u0", "u1", "u2"] { try await store.releasePushes(of: user, leaders: [1, 2, 3, 4]) }
            let claims = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await store.claimStalledPushes(now: now + 1, leaseUntil: now + 60_000, limit: 100)
                            .map { "\($0.userId):\($0.ids)" }
                    }
                }
                var all: [String] = []
                for try await ids in group { all += ids }
                return all
            }
            try Expect.equal(claims.sorted(), ["u0:[1]", "u0:[2]", "u0:[3]", "u0:[4]", "u1:[1]", "u1:[2]", "u1:[3]",
                                               "u1:[4]", "u2:[1]", "u2:[2]", "u2:[3]", "u2:[4]"],
                             "each released push claimed exactly once")
        },
    ]
}
