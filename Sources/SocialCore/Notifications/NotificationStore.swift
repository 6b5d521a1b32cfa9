/// Where users' notifications live: the inbox, its read state, what is held
/// for a digest and the push outcome. The SQLite, MongoDB and memory stores
/// implement it; `NotificationStoreContract` (SocialTesting) holds them all
/// to the same behaviour.
///
/// Methods may be called from any task, concurrently, on every node at once.
public protocol NotificationStore: Sendable {
    /// Stores a notification for `user` with the next id of that user, or,
    /// when `draft.key` was used for `user` before, returns the stored one and
    /// `created == false` (the retry changes nothing).
    /// - Parameters:
    ///   - held: true while the user trains (a `normal` notification waits for the digest).
    ///   - push: the push state it starts in.
    ///   - pushLeaseUntil: with `push` `pending`: the notification is a push
    ///     of its own (not a digest), leased to the caller until then (ms
    ///     since 1970), as `beginPush` does.
    func createNotification(_ draft: NotificationDraft, for user: UserID, held: Bool, push: PushState,
                            pushLeaseUntil: Int64?, now: Int64) async throws -> (notification: Notification, created: Bool)

    /// The user's notifications, newest first: those with an id below `before`
    /// (all when nil), only `unread` ones when `unreadOnly`, at most `limit`.
    /// Expired ones (at `now`) are left out.
    func notifications(of user: UserID, before: Int64?, unreadOnly: Bool, limit: Int,
                       now: Int64) async throws -> [Notification]

    /// The user's notifications with an id above `after`, oldest first, at
    /// most `limit`, expired ones left out (for `sync`).
    func notifications(of user: UserID, after: Int64, limit: Int, now: Int64) async throws -> [Notification]

    /// Sets `status` on the user's notifications with an id up to `upTo` and
    /// those in `ids`, except those already `dismissed` (and, for `read`,
    /// those already `read`). Returns how many changed.
    func ackNotifications(of user: UserID, upTo: Int64?, ids: [Int64], status: NotificationStatus,
                          now: Int64) async throws -> Int

    /// The badge: how many of the user's notifications are `unread` and not expired at `now`.
    func unreadNotifications(of user: UserID, now: Int64) async throws -> Int

    /// Takes the user's held notifications, at most `limit`, oldest first,
    /// and marks them not held. Each held notification is returned by one
    /// call only, whatever the number of concurrent callers and nodes.
    func claimHeldNotifications(of user: UserID, limit: Int) async throws -> [Notification]

    /// Records the push outcome of the user's notifications `ids`.
    func setPushState(_ state: PushState, of user: UserID, ids: [Int64]) async throws

    /// Records that the user's notifications `ids` (ascending) go out as one
    /// push: push state `pending`, the push led by the first id (its
    /// idempotency key is made from the first and last), a digest or not, and
    /// leased to the caller until `leaseUntil` (ms since 1970). A push still
    /// `pending` when its lease ends (its node stopped or died mid-push) is
    /// taken up again by `claimStalledPushes`.
    func beginPush(of user: UserID, ids: [Int64], digest: Bool, leaseUntil: Int64) async throws

    /// Takes up to `limit` pushes still `pending` whose lease ended before
    /// `now`, each leased anew until `leaseUntil`, with their notifications as
    /// they were pushed. Each stalled push goes to one caller only, whatever
    /// the number of concurrent callers and nodes.
    func claimStalledPushes(now: Int64, leaseUntil: Int64, limit: Int) async throws -> [StalledPush]

    /// Ends the lease of the user's pushes led by `leaders` that are still
    /// `pending` (a node shutting down with them in flight): any node takes
    /// them up at its next look.
    func releasePushes(of user: UserID, leaders: [Int64]) async throws
}

extension NotificationStore {
    /// A notification that is not pushed by itself (`pushLeaseUntil` nil).
    public func createNotification(_ draft: NotificationDraft, for user: UserID, held: Bool, push: PushState,
                                   now: Int64) async throws -> (notification: Notification, created: Bool) {
        try await createNotification(draft, for: user, held: held, push: push, pushLeaseUntil: nil, now: now)
    }
}

/// A push that was under way when its node stopped: the same notifications,
/// sent again under the same idempotency key.
public struct StalledPush: Sendable, Equatable {
    public var userId: UserID
    public var digest: Bool
    /// In ascending id order; the first leads the push.
    public var notifications: [Notification]

    public init(userId: UserID, digest: Bool, notifications: [Notification]) {
        self.userId = userId
        self.digest = digest
        self.notifications = notifications
    }

    public var ids: [Int64] { notifications.map(\.id) }
}
