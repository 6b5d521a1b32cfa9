import Logging
import SocialCore
import SocialProtocol
import SocialTesting
import Testing

/// The notification service behind a dispatcher: live events, the inbox ops,
/// the push webhook for offline users, and the digest after training.
@Suite struct NotificationServiceTests {
    let bus = RecordingBus()
    let clock = ManualClock()
    let store = MemoryNotificationStore()
    let push = RecordingPushSender()
    let presence = MemoryPresenceStore()
    let service: NotificationService
    let dispatcher: Dispatcher
    /// Runs frames the way the transport does.
    let harness: PipelineHarness

    init() {
        service = NotificationService(store: store, bus: bus, presence: presence, push: push, clock: clock.read,
                                      logger: Logger(label: "test.notify"))
        let chats = MemoryChatStore()
        dispatcher = Dispatcher(store: chats, bus: bus, clock: clock.read, ids: SequentialChatIDs().generate,
                                logger: Logger(label: "test.service"), presence: presence, notifications: service)
        harness = PipelineHarness(dispatcher: dispatcher, store: chats)
    }

    func caller(_ user: UserID, _ device: String = "phone") -> Caller {
        Caller(userId: user, deviceId: device, sessionId: "s-\(user)-\(device)")
    }

    func call<Result: Decodable>(_ user: UserID, _ op: String, _ args: some Encodable,
                                 as type: Result.Type = Result.self) async throws -> Result {
        let reply = try TestReply<Result>(frame: await harness.reply(TestCommand(id: 3, op: op, args: args).frame,
                                                                           from: caller(user)))
        if let error = reply.error { Issue.record("\(op): \(error.code) \(error.message)") }
        return try #require(reply.ok)
    }

    func draft(_ title: String, key: String? = nil, priority: NotificationPriority = .normal) -> NotificationDraft {
        NotificationDraft(type: "kudos", title: title, body: "b", data: .object(["link": .string("app://k")]),
                          priority: priority, key: key)
    }

    /// Waits (bounded by tries, not time) for the detached webhook task to record its outcome.
    func pushState(_ user: UserID, _ id: Int64) async throws -> PushState {
        for _ in 0..<1000 {
            let state = try #require(store.all(of: user).first { $0.id == id }).push
            if state != .pending { return state }
            await Task.yield()
            try await Task.sleep(nanoseconds: 1_000_000)
        }
        return .pending
    }

    @Test func anOnlineUserGetsTheEventOnItsUserTopicAndNoPush() async throws {
        await harness.open(caller("ann"))
        let created = try await service.create(draft("hi"), for: ["ann"])
        #expect(created.map(\.outcome) == [.live])
        let events = bus.events(on: .user("ann")).filter { $0.eventName == EventName.notification }
        #expect(events.count == 1)
        let event = try #require(events.first).payload(NotificationEvent.self)
        #expect(event.notification.title == "hi")
        #expect(event.unread == 1)
        #expect(push.requests.isEmpty)
        #expect(store.all(of: "ann").map(\.push) == [.skipped])
    }

    @Test func anOfflineUserIsPushedAndTheOutcomeRecorded() async throws {
        let created = try await service.create(draft("hi"), for: ["bob"])
        #expect(created.map(\.outcome) == [.push])
        #expect(try await pushState("bob", 1) == .sent)
        #expect(push.requests.map(\.userId) == ["bob"])
        #expect(push.requests.first?.digest == false)
        #expect(bus.events(on: .user("bob")).isEmpty)

        push.accept = false
        _ = try await service.create(draft("again"), for: ["bob"])
        #expect(try await pushState("bob", 2) == .failed)
    }

    @Test func aRetryWithTheSameKeyStoresOneAndDeliversOnce() async throws {
        await harness.open(caller("ann"))
        let first = try await service.create(draft("hi", key: "k-1"), for: ["ann", "bob"])
        let retry = try await service.create(draft("hi", key: "k-1"), for: ["ann", "bob"])
        #expect(first.map(\.outcome) == [.live, .push])
        #expect(retry.map(\.outcome) == [.duplicate, .duplicate])
        #expect(retry.map(\.notification.id) == first.map(\.notification.id))
        #expect(store.all(of: "ann").count == 1)
        #expect(store.all(of: "bob").count == 1)
        #expect(bus.events(on: .user("ann")).filter { $0.eventName == EventName.notification }.count == 1)
        _ = try await pushState("bob", 1)
        #expect(push.requests.count == 1)
    }

    @Test func normalNotificationsWaitForTheTrainingAndComeAsOneDigest() async throws {
        await harness.open(caller("ann"))
        let _: PresenceSelfResult = try await call("ann", Op.presenceSet, PresenceSetArgs(state: "training", activity: "run"))
        bus.reset()
        let held = try await service.create(draft("n1"), for: ["ann"])
        _ = try await service.create(draft("n2"), for: ["ann"])
        let urgent = try await service.create(draft("urgent", priority: .high), for: ["ann"])
        #expect(held.map(\.outcome) == [.held])
        #expect(urgent.map(\.outcome) == [.live])
        #expect(bus.events(on: .user("ann")).map(\.eventName) == [EventName.notification], "only the high one live")
        #expect(push.requests.isEmpty)

        let _: PresenceSelfResult = try await call("ann", Op.presenceSet, PresenceSetArgs(state: "online"))
        let digests = bus.events(on: .user("ann")).filter { $0.eventName == EventName.notificationsDigest }
        #expect(digests.count == 1)
        let digest = try #require(digests.first).payload(NotificationsDigestEvent.self)
        #expect(digest.notifications.map(\.title) == ["n1", "n2"])
        #expect(digest.unread == 3)
        // Leaving training again sends nothing: the held ones were claimed.
        let _: PresenceSelfResult = try await call("ann", Op.presenceSet, PresenceSetArgs(state: "training"))
        let _: PresenceSelfResult = try await call("ann", Op.presenceSet, PresenceSetArgs(state: "away"))
        #expect(bus.events(on: .user("ann")).filter { $0.eventName == EventName.notificationsDigest }.count == 1)
        #expect(store.all(of: "ann").map(\.push) == [.skipped, .skipped, .skipped])
    }

    @Test func aTrainingThatEndsOfflineSendsTheDigestToTheWebhook() async throws {
        await harness.open(caller("ann"))
        let _: PresenceSelfResult = try await call("ann", Op.presenceSet, PresenceSetArgs(state: "training"))
        _ = try await service.create(draft("n1"), for: ["ann"])
        _ = try await service.create(draft("n2"), for: ["ann"])
        await harness.close(caller("ann"))
        #expect(try await pushState("ann", 2) == .sent)
        #expect(push.requests.count == 1)
        #expect(push.requests.first?.digest == true)
        #expect(push.requests.first?.notifications.map(\.id) == [1, 2])
    }

    @Test func listAckBadgeAndSync() async throws {
        await harness.open(caller("ann"))
        for i in 1...5 { _ = try await service.create(draft("n\(i)"), for: ["ann"]) }
        let page: NotificationsListResult = try await call("ann", Op.notificationsList, NotificationsListArgs(limit: 2))
        #expect(page.notifications.map(\.id) == [5, 4])
        #expect(page.more)
        #expect(page.unread == 5)
        let next: NotificationsListResult = try await call("ann", Op.notificationsList, NotificationsListArgs(before: 4, limit: 5))
        #expect(next.notifications.map(\.id) == [3, 2, 1])
        #expect(!next.more)

        bus.reset()
        let acked: NotificationsAckResult = try await call("ann", Op.notificationsAck, NotificationsAckArgs(status: "read", upTo: 3))
        #expect(acked == NotificationsAckResult(changed: 3, unread: 2))
        let badges = bus.events(on: .user("ann")).filter { $0.eventName == EventName.notificationsBadge }
        #expect(try badges.map { try $0.payload(NotificationsBadgeEvent.self).unread } == [2])
        let again: NotificationsAckResult = try await call("ann", Op.notificationsAck, NotificationsAckArgs(status: "read", upTo: 3))
        #expect(again.changed == 0)
        #expect(bus.events(on: .user("ann")).filter { $0.eventName == EventName.notificationsBadge }.count == 1,
                "no badge event when nothing changed")
        let unreadOnly: NotificationsListResult = try await call("ann", Op.notificationsList, NotificationsListArgs(unreadOnly: true))
        #expect(unreadOnly.notifications.map(\.id) == [5, 4])

        let synced: SyncResult = try await call("ann", Op.sync, SyncArgs(chats: [], notificationsAfter: 3))
        #expect(synced.notifications?.changes.map(\.id) == [4, 5])
        #expect(synced.notifications?.position == 5)
        #expect(synced.notifications?.unread == 2)
        let without: SyncResult = try await call("ann", Op.sync, SyncArgs(chats: []))
        #expect(without.notifications == nil)
    }

    @Test func badArgumentsGetClearErrors() async throws {
        await #expect(throws: NotificationError.self) { try await service.create(draft(""), for: ["ann"]) }
        await #expect(throws: NotificationError.self) { try await service.create(draft("x"), for: []) }
        await #expect(throws: NotificationError.self) { try await service.create(draft("x"), for: ["a", "a"]) }
        var bad = draft("x")
        bad.data = .string("not an object")
        await #expect(throws: NotificationError.self) { try await service.create(bad, for: ["ann"]) }
        for args in [NotificationsAckArgs(status: "unread", upTo: 1), NotificationsAckArgs(status: "read")] {
            let reply = try TestReply<Empty>(frame: await harness.reply(
                TestCommand(id: 4, op: Op.notificationsAck, args: args).frame, from: caller("ann")))
            #expect(reply.error?.code == .invalidArgs)
        }
    }

    @Test func theAPIRouteCreatesAndReportsEachUser() async throws {
        let route = try #require(NotificationRoutes.routes(service).first)
        #expect(route.method == "POST" && route.pattern == "/api/v1/notifications" && route.scope == "social:notify")
        let body = NotificationCreateBody(userIds: ["ann", "bob"], type: "kudos", title: "Nice run", idempotencyKey: "k")
        let request = APIRequest(method: "POST", path: route.pattern, body: Codec.encode(body), clientId: "svc",
                                 scopes: ["social:notify"], requestId: "r1")
        let first = try await route.handler(request)
        #expect(first.status == 201)
        let reply = try Codec.decode(NotificationCreateReply.self, from: first.body)
        #expect(reply.results.map(\.userId) == ["ann", "bob"])
        #expect(reply.results.map(\.created) == [true, true])
        let retry = try await route.handler(request)
        #expect(retry.status == 200)
        #expect(try Codec.decode(NotificationCreateReply.self, from: retry.body).results.map(\.delivery) == ["duplicate", "duplicate"])
        var invalid = request
        invalid.body = Array(#"{"user_ids": ["ann"], "type": "kudos"}"#.utf8)
        await #expect(throws: APIProblem.self) { try await route.handler(invalid) }
    }
}
