import SocialCore

/// The checks every `PresenceStore` passes, whatever its backend
/// (`MemoryPresenceStore` is the reference). Test targets run each check
/// against a factory of fresh, empty stores:
///
/// ```swift
/// @Test(arguments: PresenceStoreContract.checks)
/// func memory(_ check: PresenceStoreContract.Check) async throws {
///     try await check.run { MemoryPresenceStore() }
/// }
/// ```
///
/// A failed expectation throws a `ContractFailure` naming the check, file and
/// line. Time is the `now` each call passes (no check sleeps), so expiry is
/// exact and backends that keep their own clock for housekeeping (key TTLs)
/// must not let it decide presence.
///
/// Where the `PresenceStore` documentation leaves room, the checks pin down
/// one reading so every backend agrees:
/// - A session is live while `now < set or refresh time + ttlMs`; an expired
///   session no longer counts for `get`, nor for the before/after of `set`
///   and `remove`, even before a sweep removes it.
/// - `remove` of an unknown session changes nothing (before == after).
/// - `refresh` extends only sessions that are still stored: it never creates
///   one, nor revives a removed or swept one.
/// - `sweep` reports one change per user whose expired sessions it removed;
///   its `before` shows the user as they last looked (expired sessions
///   included), and when no live session is left, `lastSeen` is the latest
///   expiry removed. A later sweep does not report them again.
/// - `sweep` removes every expired session of each user it reports. With
///   more expired sessions waiting than `limit`, it takes about `limit` of
///   them (exactly `limit` when each user has one) and leaves the rest to
///   later calls.
public enum PresenceStoreContract {
    /// Makes a fresh, empty store. Called once per check.
    public typealias Factory = () async throws -> any PresenceStore

    /// One named check of the contract.
    public typealias Check = ContractCheck<any PresenceStore>

    /// Every check, in a stable order.
    public static let checks: [Check] = aggregationChecks + expiryChecks + concurrencyChecks

    /// The TTL the checks set sessions with, unless a check says otherwise.
    static let ttl: Int64 = 30_000
}

/// Shorthands for the presence checks.
enum PresenceFixture {
    static let now = Fixture.now

    static func session(_ id: String, _ state: PresenceState = .online, _ activity: String? = nil,
                        since: Int64 = now) -> SessionPresence {
        SessionPresence(sessionId: id, deviceId: "device-\(id)", state: state, activity: activity, since: since)
    }

    static func online(_ user: UserID) -> Presence { Presence(userId: user, state: .online) }
    static func away(_ user: UserID) -> Presence { Presence(userId: user, state: .away) }
    static func training(_ user: UserID, _ activity: String?) -> Presence {
        Presence(userId: user, state: .training, activity: activity)
    }
    static func offline(_ user: UserID, lastSeen: Int64? = nil) -> Presence {
        Presence(userId: user, state: .offline, lastSeen: lastSeen)
    }

    static func change(_ before: Presence, _ after: Presence) -> PresenceChange {
        PresenceChange(before: before, after: after)
    }

    /// Sets `session` of `user` at `now` with the contract's TTL unless given.
    @discardableResult
    static func set(_ store: any PresenceStore, _ user: UserID, _ session: SessionPresence,
                    ttl: Int64 = PresenceStoreContract.ttl, at now: Int64 = now) async throws -> PresenceChange {
        try await store.set(user, session, ttlMs: ttl, now: now)
    }

    /// `changes` ordered by user, for comparing sweeps (whose order is not specified).
    static func byUser(_ changes: [PresenceChange]) -> [PresenceChange] {
        changes.sorted { $0.before.userId < $1.before.userId }
    }
}
