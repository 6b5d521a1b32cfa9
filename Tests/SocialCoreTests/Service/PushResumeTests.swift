import Logging
import SocialCore
import SocialProtocol
import SocialTesting
import Testing

/// Pushes survive the node that started them: one in flight at shutdown is
/// left pending and sent again by the next node that looks, under the same
/// idempotency key; one that was sent is never sent again.
@Suite struct PushResumeTests {
    let clock = ManualClock()
    let store = MemoryNotificationStore()

    func service(_ push: any PushSender, leaseMs: Int64 = 60_000) -> NotificationService {
        var limits = NotificationLimits()
        limits.pushLeaseMs = leaseMs
        return NotificationService(store: store, bus: RecordingBus(), presence: MemoryPresenceStore(), push: push,
                                   limits: limits, clock: clock.read, logger: Logger(label: "test.push"))
    }

    func draft(_ title: String) -> NotificationDraft {
        NotificationDraft(type: "kudos", title: title, body: "b", key: "k-\(title)")
    }

    /// Waits (bounded by tries) until `condition` holds.
    func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<2000 where !condition() { try await Task.sleep(nanoseconds: 1_000_000) }
        #expect(condition())
    }

    @Test func aPushInFlightAtShutdownIsSentAgainByTheNextNodeWithTheSameKey() async throws {
        let hung = HeldPushSender()
        let first = service(hung)
        _ = try await first.create(draft("a"), for: ["ann"])
        _ = try await first.create(draft("b"), for: ["bob"])
        try await eventually { hung.waitingCount == 2 }
        await first.shutdown(graceMs: 50)
        #expect(first.pushesInFlight == 0)
        #expect(store.all(of: "ann").map(\.push) == [.pending], "stopped, not failed")

        let next = RecordingPushSender()
        let restarted = service(next)
        await restarted.resumeStalledPushes()   // released at shutdown: no wait for the lease
        try await eventually { store.all(of: "ann").first?.push == .sent && store.all(of: "bob").first?.push == .sent }
        #expect(Set(next.requests.map(\.idempotencyKey)) == Set(hung.requests.map(\.idempotencyKey)))
        #expect(next.requests.count == 2)
        await restarted.resumeStalledPushes()
        #expect(next.requests.count == 2, "a sent push is not sent again")
    }

    @Test func aPushOfANodeThatDiedIsSentAgainOnlyOnceItsLeaseEnded() async throws {
        let hung = HeldPushSender()
        let dead = service(hung, leaseMs: 30_000)
        _ = try await dead.create(draft("a"), for: ["ann"])
        try await eventually { hung.waitingCount == 1 }
        // The node dies: no shutdown, its lease stays.
        let next = RecordingPushSender()
        let other = service(next, leaseMs: 30_000)
        await other.resumeStalledPushes()
        #expect(next.requests.isEmpty, "still leased to the node that started it")
        clock.advance(by: 30_001)
        await other.resumeStalledPushes()
        try await eventually { store.all(of: "ann").first?.push == .sent }
        #expect(next.requests.map(\.idempotencyKey) == ["ann:1:1"])
        hung.release()
    }

    @Test func aShutdownWaitsForPushesThatFinishWithinTheGrace() async throws {
        let hung = HeldPushSender()
        let node = service(hung)
        _ = try await node.create(draft("a"), for: ["ann"])
        try await eventually { hung.waitingCount == 1 }
        Task {
            try await Task.sleep(nanoseconds: 20_000_000)
            hung.release()
        }
        await node.shutdown(graceMs: 5_000)
        #expect(store.all(of: "ann").first?.push == .sent)
    }
}
