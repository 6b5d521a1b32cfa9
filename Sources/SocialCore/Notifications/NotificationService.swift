import Logging
import Metrics
import Synchronization
import SocialProtocol

/// Creates notifications and delivers them: live to online devices (once per
/// device, through the bus), held while the user trains (`normal` ones), and
/// through the push webhook when the user has no online device. Serves the
/// backend API and the client ops (`Dispatcher+Notifications.swift`).
///
/// Threads: any task; no per-user state lives here (the store and the
/// presence store hold it), so every node runs one and they agree.
public final class NotificationService: Sendable {
    let store: any NotificationStore
    let bus: any EventBus
    let presence: any PresenceStore
    let push: (any PushSender)?
    public let limits: NotificationLimits
    let clock: @Sendable () -> Int64
    let logger: Logger
    /// Pushes under way on this node, so a shutdown can wait for them, or stop
    /// them and leave them to the next node that looks (`shutdown`).
    private let pushes = Mutex(PushesInFlight())

    private struct PushesInFlight {
        var next = 0
        var running: [Int: (user: UserID, leader: Int64, task: Task<Void, Never>)] = [:]
        /// Set by `shutdown`: no new push starts.
        var closed = false
    }

    /// What one create did for one user.
    public enum Outcome: String, Sendable {
        /// Sent to the user's online devices.
        case live
        /// Kept for the digest after the user's training.
        case held
        /// The user had no online device: handed to the push webhook.
        case push
        /// Already expired: stored, not delivered.
        case expired
        /// The idempotency key was used before: nothing new.
        case duplicate
    }

    public struct Created: Sendable {
        public var notification: Notification
        public var outcome: Outcome
    }

    /// - Parameters:
    ///   - store: the inbox.
    ///   - bus: where live events go (`.user` topics).
    ///   - presence: tells online, training and offline users apart.
    ///   - push: the push webhook; nil: pushes of offline users are marked `failed`.
    ///   - limits: sizes and counts.
    ///   - clock: milliseconds since 1970.
    ///   - logger: where push failures are reported.
    public init(store: any NotificationStore, bus: any EventBus, presence: any PresenceStore,
                push: (any PushSender)?, limits: NotificationLimits = .init(),
                clock: @escaping @Sendable () -> Int64, logger: Logger) {
        self.store = store
        self.bus = bus
        self.presence = presence
        self.push = push
        self.limits = limits
        self.clock = clock
        self.logger = logger
    }

    /// Creates `draft` for each of `users` and delivers each new one; the
    /// results are in the order of `users`. A user whose key was used before
    /// gets nothing new (`duplicate`). Up to `createConcurrency` users are
    /// done at once (their store calls overlap, which the stores group-commit).
    /// Webhook calls run after this returns; their outcome is recorded on the
    /// notification (`push` state).
    /// - Throws: `NotificationError` for an invalid draft; `StoreError` when the store fails
    ///   (some users may be done: retrying with the same key is safe).
    public func create(_ draft: NotificationDraft, for users: [UserID]) async throws -> [Created] {
        try validate(draft, users)
        var results = [Created?](repeating: nil, count: users.count)
        try await withThrowingTaskGroup(of: (Int, Created).self) { group in
            var next = 0
            func start() {
                let index = next
                next += 1
                group.addTask { (index, try await self.create(draft, for: users[index])) }
            }
            while next < min(users.count, max(1, limits.createConcurrency)) { start() }
            while let (index, created) = try await group.next() {
                results[index] = created
                if next < users.count { start() }
            }
        }
        return results.map { $0! }
    }

    private func create(_ draft: NotificationDraft, for user: UserID) async throws -> Created {
        // A create the API timed out (504) stops here for the users not begun.
        try Task.checkCancellation()
        let now = clock()
        if draft.expiresAt.map({ $0 <= now }) == true {
            let (made, created) = try await store.createNotification(draft, for: user, held: false, push: .skipped, now: now)
            return record(Created(notification: made, outcome: created ? .expired : .duplicate))
        }
        let state = try await presence.get([user], now: now).first?.state ?? .offline
        let held = draft.priority == .normal && state == .training
        let initial: PushState = held ? .held : state == .offline ? .pending : .skipped
        // A push is leased to this node from the start: if the node stops before
        // it is sent, another (or this one, restarted) sends it.
        let (made, created) = try await store.createNotification(draft, for: user, held: held, push: initial,
                                                                 pushLeaseUntil: now + limits.pushLeaseMs, now: now)
        guard created else { return record(Created(notification: made, outcome: .duplicate)) }

        if held {
            // The training may have ended between the presence read and the
            // write: then no digest would claim this one until the next training.
            if let after = try? await presence.get([user], now: clock()).first, after.state != .training {
                await sendDigest(user, presence: after)
            }
            return record(Created(notification: made, outcome: .held))
        }
        let unread = (try? await store.unreadNotifications(of: user, now: clock())) ?? 0
        if state == .offline {
            startPush(PushRequest(userId: user, digest: false, notifications: [made.wire], unread: unread), ids: [made.id])
            return record(Created(notification: made, outcome: .push))
        }
        bus.publish([BusEvent(topic: .user(user), frame: Codec.push(EventName.notification,
                                                                     NotificationEvent(notification: made.wire, unread: unread)))],
                    trace: RequestContext.trace)
        return record(Created(notification: made, outcome: .live))
    }

    private func record(_ created: Created) -> Created {
        count(created.outcome.rawValue)
        return created
    }

    func count(_ outcome: String) {
        Counter(label: "social_notifications_total", dimensions: [("outcome", outcome)]).increment()
    }

    /// The user's presence changed: when it left `training`, the held
    /// notifications go out as one digest (an event to online devices, or the
    /// webhook). Safe on every node at once: the claim is atomic.
    public func presenceChanged(_ change: PresenceChange) async {
        guard change.before.state == .training, change.after.state != .training else { return }
        await sendDigest(change.after.userId, presence: change.after)
    }

    /// Claims the user's held notifications and sends them as digests of at
    /// most `maxDigest` (one in the usual case).
    func sendDigest(_ user: UserID, presence: Presence) async {
        do {
            while true {
                let claimed = try await store.claimHeldNotifications(of: user, limit: limits.maxDigest)
                if claimed.isEmpty { return }
                let now = clock()
                let expired = claimed.filter { $0.isExpired(at: now) }
                let live = claimed.filter { !$0.isExpired(at: now) }
                if !expired.isEmpty {
                    try await store.setPushState(.skipped, of: user, ids: expired.map(\.id))
                    for _ in expired { count(Outcome.expired.rawValue) }
                }
                if !live.isEmpty {
                    let unread = try await store.unreadNotifications(of: user, now: now)
                    let wire = live.map(\.wire)
                    if presence.state == .offline {
                        try await store.beginPush(of: user, ids: live.map(\.id), digest: true,
                                                  leaseUntil: clock() + limits.pushLeaseMs)
                        startPush(PushRequest(userId: user, digest: true, notifications: wire, unread: unread),
                                  ids: live.map(\.id))
                    } else {
                        try await store.setPushState(.skipped, of: user, ids: live.map(\.id))
                        bus.publish([BusEvent(topic: .user(user), frame: Codec.push(
                            EventName.notificationsDigest, NotificationsDigestEvent(notifications: wire, unread: unread)))],
                                    trace: RequestContext.trace)
                    }
                    count("digest")
                }
                if claimed.count < limits.maxDigest { return }
            }
        } catch {
            logger.warning("notification digest failed", metadata: ["user": .string(user), "error": .string("\(error)")])
        }
    }

    /// Calls the webhook off the caller's task and records the outcome; at
    /// most `maxPushInflight` at once (beyond: `failed` at once). The push is
    /// `pending` and leased to this node (see `NotificationStore.beginPush`).
    private func startPush(_ request: PushRequest, ids: [Int64]) {
        let user = request.userId
        guard let push, let leader = ids.first else {
            Task { await finishPush(user, ids: ids, sent: false) }
            return
        }
        let started = pushes.withLock { pushes -> Bool? in
            if pushes.closed { return nil }
            guard pushes.running.count < limits.maxPushInflight else { return false }
            let number = pushes.next
            pushes.next += 1
            // The task inherits the caller's `RequestContext`: the webhook call
            // carries its request id and trace (`traceparent`).
            let task = Task {
                let sent = await push.send(request)
                if !sent, Task.isCancelled {
                    // Stopped by `shutdown`: still `pending`; its lease is released there.
                } else {
                    await self.finishPush(user, ids: ids, sent: sent)
                }
                _ = self.pushes.withLock { $0.running.removeValue(forKey: number) }
            }
            pushes.running[number] = (user, leader, task)
            return true
        }
        switch started {
        case true?:
            break
        case false?:
            logger.warning("push webhook: too many calls in flight", metadata: ["user": .string(user)])
            Task { await finishPush(user, ids: ids, sent: false) }
        case nil:
            // Shutting down: left `pending` with its lease released, for the next node that looks.
            Task { try? await store.releasePushes(of: user, leaders: [leader]) }
        }
    }

    private func finishPush(_ user: UserID, ids: [Int64], sent: Bool) async {
        count(sent ? "push_sent" : "push_failed")
        do {
            try await store.setPushState(sent ? .sent : .failed, of: user, ids: ids)
        } catch {
            logger.warning("cannot record a push outcome", metadata: ["user": .string(user), "error": .string("\(error)")])
        }
    }

    /// Sends again the pushes that a node left `pending` when it stopped or
    /// died mid-push (their lease ended): the same notifications under the
    /// same idempotency key, so the push service can drop one it already
    /// took. Each such push is taken by one node only. The gateway calls it
    /// at start and then every few seconds, on every node.
    public func resumeStalledPushes() async {
        let room = pushes.withLock { $0.closed ? 0 : limits.maxPushInflight - $0.running.count }
        guard room > 0 else { return }
        do {
            let now = clock()
            let stalled = try await store.claimStalledPushes(now: now, leaseUntil: now + limits.pushLeaseMs,
                                                             limit: min(room, limits.resumeBatch))
            for push in stalled where !push.notifications.isEmpty {
                let unread = (try? await store.unreadNotifications(of: push.userId, now: clock())) ?? 0
                logger.info("push webhook: sending again a push left pending", metadata: [
                    "user": .string(push.userId), "ids": .string("\(push.ids)")])
                count("push_resumed")
                startPush(PushRequest(userId: push.userId, digest: push.digest, notifications: push.notifications.map(\.wire),
                                      unread: unread), ids: push.ids)
            }
        } catch {
            logger.warning("looking for pushes left pending failed", metadata: ["error": .string("\(error)")])
        }
    }

    /// Webhook calls under way on this node.
    public var pushesInFlight: Int { pushes.withLock { $0.running.count } }

    /// Stops pushing: no new push starts; the ones under way get up to
    /// `graceMs` to finish, then are stopped (no further attempt) and left
    /// `pending` with their lease released, so the next node that looks (or
    /// this one, restarted) sends them again under the same idempotency key.
    /// Returns once every push task has ended. Idempotent.
    public func shutdown(graceMs: Int64) async {
        pushes.withLock { $0.closed = true }
        let deadline = ContinuousClock.now + .milliseconds(graceMs)
        while pushesInFlight > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        let stopped = pushes.withLock { Array($0.running.values) }
        guard !stopped.isEmpty else { return }
        for push in stopped { push.task.cancel() }
        for push in stopped { await push.task.value }
        logger.info("push webhook: calls stopped by the shutdown are left for a restart", metadata: [
            "pushes": .stringConvertible(stopped.count)])
        for (user, leaders) in Dictionary(grouping: stopped, by: \.user) {
            do {
                try await store.releasePushes(of: user, leaders: leaders.map(\.leader))
            } catch {
                // Their lease ends by itself: they are sent again after `pushLeaseMs`.
                logger.warning("cannot release pushes at shutdown", metadata: [
                    "user": .string(user), "error": .string("\(error)")])
            }
        }
    }

    private func validate(_ draft: NotificationDraft, _ users: [UserID]) throws {
        guard !users.isEmpty else { throw NotificationError.invalid("user_ids", "at least one user") }
        guard users.count <= limits.maxUsers else {
            throw NotificationError.invalid("user_ids", "at most \(limits.maxUsers) users")
        }
        // Code points, as JSON Schema's maxLength counts them (protocol/openapi.yaml): an id of more
        // than 128 UTF-8 bytes is accepted here, though no user who connects can have it.
        for (i, user) in users.enumerated() where !(1...128).contains(user.unicodeScalars.count) {
            throw NotificationError.invalid("user_ids[\(i)]", "1 to 128 code points")
        }
        guard Set(users).count == users.count else { throw NotificationError.invalid("user_ids", "a user is listed twice") }
        guard limits.typeBytes.contains(draft.type.utf8.count) else {
            throw NotificationError.invalid("type", "\(limits.typeBytes.lowerBound) to \(limits.typeBytes.upperBound) bytes")
        }
        guard limits.titleBytes.contains(draft.title.utf8.count) else {
            throw NotificationError.invalid("title", "\(limits.titleBytes.lowerBound) to \(limits.titleBytes.upperBound) bytes")
        }
        guard draft.body.utf8.count <= limits.maxBodyBytes else {
            throw NotificationError.invalid("body", "at most \(limits.maxBodyBytes) bytes")
        }
        if let data = draft.data {
            guard case .object = data else { throw NotificationError.invalid("data", "must be an object") }
            guard Codec.encode(data).count <= limits.maxDataBytes else {
                throw NotificationError.invalid("data", "at most \(limits.maxDataBytes) bytes encoded")
            }
        }
        if let key = draft.key, !limits.keyBytes.contains(key.utf8.count) {
            throw NotificationError.invalid("idempotency_key", "\(limits.keyBytes.lowerBound) to \(limits.keyBytes.upperBound) bytes")
        }
    }
}

/// A create the service refuses: which field, and why.
public struct NotificationError: Error, Sendable, Equatable {
    public var field: String
    public var problem: String

    static func invalid(_ field: String, _ problem: String) -> NotificationError {
        NotificationError(field: field, problem: problem)
    }

    public var message: String { "\(field): \(problem)" }
}
