/// Presence of one node's sessions, in memory: the embedded default, and the
/// reference the Redis store is tested against.
public actor MemoryPresenceStore: PresenceStore {
    private struct Entry {
        var session: SessionPresence
        var expiresAt: Int64
    }

    /// Each user's sessions: a few at most, so a small array (a dictionary
    /// per user cost about 250 bytes per connection).
    private var live: [UserID: [Entry]] = [:]
    private var lastSeen: [UserID: Int64] = [:]
    /// No entry expires before this (it may be earlier than the true first
    /// expiry: refreshes only move expiries later), so a sweep before it has
    /// nothing to do and visits no user. A full sweep sets it again.
    private var earliestExpiry = Int64.max

    public init() {}

    /// Where `sessionId` is among `user`'s entries.
    private func index(_ user: UserID, _ sessionId: String) -> Int? {
        live[user]?.firstIndex { $0.session.sessionId == sessionId }
    }

    private func presence(_ user: UserID, now: Int64) -> Presence {
        let sessions = (live[user] ?? []).filter { $0.expiresAt > now }.map(\.session)
        return Presence.aggregate(user, sessions, lastSeen: lastSeen[user])
    }

    public func set(_ user: UserID, _ session: SessionPresence, ttlMs: Int64, now: Int64) -> PresenceChange {
        let before = presence(user, now: now)
        let entry = Entry(session: session, expiresAt: now + ttlMs)
        if let index = index(user, session.sessionId) {
            live[user]![index] = entry
        } else {
            live[user, default: []].append(entry)
        }
        earliestExpiry = min(earliestExpiry, now + ttlMs)
        return PresenceChange(before: before, after: presence(user, now: now))
    }

    public func remove(_ user: UserID, sessionId: String, now: Int64) -> PresenceChange {
        let before = presence(user, now: now)
        guard let index = index(user, sessionId) else {
            return PresenceChange(before: before, after: before)
        }
        live[user]!.remove(at: index)
        if live[user]?.isEmpty == true {
            live[user] = nil
            lastSeen[user] = now
        }
        return PresenceChange(before: before, after: presence(user, now: now))
    }

    public func refresh(_ sessions: [(user: UserID, sessionId: String)], ttlMs: Int64, now: Int64) {
        for (user, id) in sessions {
            if let index = index(user, id) {
                live[user]![index].expiresAt = now + ttlMs
            }
        }
    }

    public func sweep(now: Int64, limit: Int) -> [PresenceChange] {
        guard now >= earliestExpiry else { return [] }
        var changes: [PresenceChange] = []
        var removed = 0
        var earliest = Int64.max
        for (user, entries) in live {
            guard removed < limit else {
                earliest = now  // stopped early: the next sweep goes on
                break
            }
            let firstExpiry = entries.lazy.map(\.expiresAt).min() ?? .max
            guard firstExpiry <= now else {
                earliest = min(earliest, firstExpiry)
                continue
            }
            let expired = entries.filter { $0.expiresAt <= now }
            earliest = min(earliest, entries.lazy.map(\.expiresAt).filter { $0 > now }.min() ?? .max)
            // `before` as the user's sessions last looked, expired ones included.
            let before = Presence.aggregate(user, entries.map(\.session), lastSeen: lastSeen[user])
            live[user]?.removeAll { $0.expiresAt <= now }
            removed += expired.count
            if live[user]?.isEmpty == true {
                live[user] = nil
                lastSeen[user] = expired.map(\.expiresAt).max()
            }
            changes.append(PresenceChange(before: before, after: presence(user, now: now)))
        }
        earliestExpiry = earliest
        return changes
    }

    public func get(_ users: [UserID], now: Int64) -> [Presence] {
        users.map { presence($0, now: now) }
    }
}
