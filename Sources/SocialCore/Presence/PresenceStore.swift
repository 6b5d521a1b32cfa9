/// Where sessions' presence lives, shared by every gateway node. Each entry
/// expires unless its node refreshes it, so a node that dies takes its users
/// offline: at most `ttl` plus one sweep interval later.
///
/// Methods may be called from any task, concurrently.
public protocol PresenceStore: Sendable {
    /// Sets one session's presence, valid for `ttlMs`. Returns the user's
    /// presence before and after.
    func set(_ user: UserID, _ session: SessionPresence, ttlMs: Int64, now: Int64) async throws -> PresenceChange
    /// Removes a session (it closed). When it was the user's last, the user
    /// goes offline with `lastSeen = now`.
    func remove(_ user: UserID, sessionId: String, now: Int64) async throws -> PresenceChange
    /// Extends the validity of live sessions (the node's heartbeat).
    func refresh(_ sessions: [(user: UserID, sessionId: String)], ttlMs: Int64, now: Int64) async throws
    /// Removes sessions whose validity passed (their node died), at most
    /// `limit`; returns the changes of the users they belonged to. Safe to run
    /// on every node at once: each expired session is removed by one of them.
    func sweep(now: Int64, limit: Int) async throws -> [PresenceChange]
    /// Current presence of each user (offline, maybe with `lastSeen`, when unknown).
    func get(_ users: [UserID], now: Int64) async throws -> [Presence]
}
