import Synchronization

/// A `NotificationStore` in memory, for tests and `--store memory`.
/// Threads: any; one lock guards everything.
public final class MemoryNotificationStore: NotificationStore {
    private struct Inbox {
        var lastId: Int64 = 0
        /// By id, ascending.
        var items: [Notification] = []
        var keys: [String: Int64] = [:]
        /// Pushes by their first id: their notifications, whether a digest, and their lease.
        var pushes: [Int64: (ids: [Int64], digest: Bool, leaseUntil: Int64)] = [:]
    }

    private let inboxes = Mutex<[UserID: Inbox]>([:])

    public init() {}

    public func createNotification(_ draft: NotificationDraft, for user: UserID, held: Bool, push: PushState,
                                   pushLeaseUntil: Int64?, now: Int64) async throws -> (notification: Notification, created: Bool) {
        inboxes.withLock { inboxes in
            var inbox = inboxes[user, default: Inbox()]
            if let key = draft.key, let id = inbox.keys[key], let existing = inbox.items.first(where: { $0.id == id }) {
                return (existing, false)
            }
            inbox.lastId += 1
            let made = Notification(userId: user, id: inbox.lastId, draft: draft, held: held, push: push, createdAt: now)
            inbox.items.append(made)
            if let key = draft.key { inbox.keys[key] = made.id }
            if push == .pending, let lease = pushLeaseUntil { inbox.pushes[made.id] = ([made.id], false, lease) }
            inboxes[user] = inbox
            return (made, true)
        }
    }

    public func notifications(of user: UserID, before: Int64?, unreadOnly: Bool, limit: Int,
                              now: Int64) async throws -> [Notification] {
        let items = inboxes.withLock { $0[user]?.items ?? [] }
        return Array(items.reversed().lazy
            .filter { before == nil || $0.id < before! }
            .filter { !unreadOnly || $0.status == .unread }
            .filter { !$0.isExpired(at: now) }
            .prefix(max(0, limit)))
    }

    public func notifications(of user: UserID, after: Int64, limit: Int, now: Int64) async throws -> [Notification] {
        let items = inboxes.withLock { $0[user]?.items ?? [] }
        return Array(items.lazy.filter { $0.id > after && !$0.isExpired(at: now) }.prefix(max(0, limit)))
    }

    public func ackNotifications(of user: UserID, upTo: Int64?, ids: [Int64], status: NotificationStatus,
                                 now: Int64) async throws -> Int {
        let wanted = Set(ids)
        return inboxes.withLock { inboxes in
            guard var inbox = inboxes[user] else { return 0 }
            var changed = 0
            for i in inbox.items.indices {
                let item = inbox.items[i]
                guard (upTo.map { item.id <= $0 } ?? false) || wanted.contains(item.id) else { continue }
                guard item.status != .dismissed, item.status != status else { continue }
                inbox.items[i].status = status
                changed += 1
            }
            inboxes[user] = inbox
            return changed
        }
    }

    public func unreadNotifications(of user: UserID, now: Int64) async throws -> Int {
        inboxes.withLock { $0[user]?.items.filter { $0.status == .unread && !$0.isExpired(at: now) }.count ?? 0 }
    }

    public func claimHeldNotifications(of user: UserID, limit: Int) async throws -> [Notification] {
        inboxes.withLock { inboxes in
            guard var inbox = inboxes[user] else { return [] }
            var claimed: [Notification] = []
            for i in inbox.items.indices where inbox.items[i].held && claimed.count < limit {
                inbox.items[i].held = false
                claimed.append(inbox.items[i])
            }
            inboxes[user] = inbox
            return claimed
        }
    }

    public func setPushState(_ state: PushState, of user: UserID, ids: [Int64]) async throws {
        let wanted = Set(ids)
        inboxes.withLock { inboxes in
            guard var inbox = inboxes[user] else { return }
            for i in inbox.items.indices where wanted.contains(inbox.items[i].id) { inbox.items[i].push = state }
            inboxes[user] = inbox
        }
    }

    public func beginPush(of user: UserID, ids: [Int64], digest: Bool, leaseUntil: Int64) async throws {
        guard let leader = ids.first else { return }
        let wanted = Set(ids)
        inboxes.withLock { inboxes in
            guard var inbox = inboxes[user] else { return }
            for i in inbox.items.indices where wanted.contains(inbox.items[i].id) { inbox.items[i].push = .pending }
            inbox.pushes[leader] = (ids, digest, leaseUntil)
            inboxes[user] = inbox
        }
    }

    public func claimStalledPushes(now: Int64, leaseUntil: Int64, limit: Int) async throws -> [StalledPush] {
        inboxes.withLock { inboxes in
            var claimed: [StalledPush] = []
            for user in inboxes.keys.sorted() {
                guard var inbox = inboxes[user] else { continue }
                for leader in inbox.pushes.keys.sorted() where claimed.count < limit {
                    guard let push = inbox.pushes[leader], push.leaseUntil < now else { continue }
                    let members = inbox.items.filter { push.ids.contains($0.id) && $0.push == .pending }
                    guard members.contains(where: { $0.id == leader }) else {
                        inbox.pushes[leader] = nil      // finished: nothing to take up
                        continue
                    }
                    inbox.pushes[leader]?.leaseUntil = leaseUntil
                    claimed.append(StalledPush(userId: user, digest: push.digest, notifications: members))
                }
                inboxes[user] = inbox
            }
            return claimed
        }
    }

    public func releasePushes(of user: UserID, leaders: [Int64]) async throws {
        inboxes.withLock { inboxes in
            for leader in leaders { inboxes[user]?.pushes[leader]?.leaseUntil = 0 }
        }
    }

    /// Every stored notification of `user`, oldest first (for tests).
    public func all(of user: UserID) -> [Notification] {
        inboxes.withLock { $0[user]?.items ?? [] }
    }
}
