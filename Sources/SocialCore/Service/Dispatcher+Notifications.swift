import SocialProtocol

// The caller's notification inbox: list, acknowledge, and the badge.

extension Dispatcher {
    /// `notifications.list`: a page of the caller's inbox, newest first, and the badge.
    func notificationsList(_ args: NotificationsListArgs, _ caller: Caller) async throws -> NotificationsListResult {
        let limits = notifications.limits
        let limit = args.limit ?? limits.defaultListLimit
        guard limit >= 1 else { throw ServiceError.invalidArgs("limit", "at least 1") }
        if let before = args.before, before < 1 { throw ServiceError.invalidArgs("before", "at least 1") }
        let store = notifications.store
        let now = clock()
        // One more than asked tells whether older ones wait.
        let page = try await store.notifications(of: caller.userId, before: args.before, unreadOnly: args.unreadOnly ?? false,
                                                 limit: min(limit, limits.maxListLimit) + 1, now: now)
        let shown = page.prefix(min(limit, limits.maxListLimit))
        return NotificationsListResult(notifications: shown.map(\.wire), more: page.count > shown.count,
                                       unread: try await store.unreadNotifications(of: caller.userId, now: now))
    }

    /// `notifications.ack`: marks notifications read or dismissed; when the
    /// badge changed, the user's devices get `notifications.badge`.
    func notificationsAck(_ args: NotificationsAckArgs, _ caller: Caller) async throws -> NotificationsAckResult {
        guard let status = NotificationStatus(rawValue: args.status), status != .unread else {
            throw ServiceError.invalidArgs("status", "must be read or dismissed")
        }
        let ids = args.ids ?? []
        guard args.upTo != nil || !ids.isEmpty else { throw ServiceError.invalidArgs("up_to", "give up_to or ids") }
        guard ids.count <= notifications.limits.maxAckIds else {
            throw ServiceError.tooLarge("ids", "at most \(notifications.limits.maxAckIds)")
        }
        if let upTo = args.upTo, upTo < 0 { throw ServiceError.invalidArgs("up_to", "at least 0") }
        let store = notifications.store
        let before = try await store.unreadNotifications(of: caller.userId, now: clock())
        let changed = try await store.ackNotifications(of: caller.userId, upTo: args.upTo, ids: ids, status: status, now: clock())
        let unread = try await store.unreadNotifications(of: caller.userId, now: clock())
        if unread != before {
            publish(event(.user(caller.userId), EventName.notificationsBadge, NotificationsBadgeEvent(unread: unread)))
        }
        return NotificationsAckResult(changed: changed, unread: unread)
    }

    /// The notifications part of `sync`: those created after the client's position.
    func syncNotifications(after: Int64, _ caller: Caller) async throws -> SyncNotifications {
        guard after >= 0 else { throw ServiceError.invalidArgs("notifications_after", "at least 0") }
        let store = notifications.store
        let now = clock()
        let limit = notifications.limits.syncLimit
        let fetched = try await store.notifications(of: caller.userId, after: after, limit: limit + 1, now: now)
        let changes = Array(fetched.prefix(limit))
        return SyncNotifications(changes: changes.map(\.wire), position: changes.last?.id ?? after,
                                 more: fetched.count > limit,
                                 unread: try await store.unreadNotifications(of: caller.userId, now: now))
    }
}
