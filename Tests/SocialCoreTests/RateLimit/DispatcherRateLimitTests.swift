@testable import SocialCore
import SocialProtocol
import SocialTesting
import Testing

/// The command pipeline applies a session's rate limits before an op runs.
@Suite struct DispatcherRateLimitTests {
    struct Text: Encodable {
        var chat_id: String
        var text: String
    }

    static func limits(messages: RateLimit, flood: Int = 3) -> ChatLimits {
        var limits = ChatLimits()
        limits.rates = .off
        limits.rates.messages = messages
        limits.rates.floodRejections = flood
        limits.rates.floodWindowMs = 10_000
        return limits
    }

    @Test func aSenderOverTheLimitGetsRateLimitedThenRecovers() async throws {
        let fixture = ServiceFixture(limits: Self.limits(messages: RateLimit(perSecond: 2, burst: 2)))
        let group = try await fixture.group("alice", title: "Intervals")
        let alice = Caller(userId: "alice", deviceId: "phone", sessionId: "s-alice-phone")
        await fixture.harness.open(alice)
        _ = try await fixture.send("alice", group, "one")
        _ = try await fixture.send("alice", group, "two")
        let error = try await fixture.failure("alice", "chat.send", Text(chat_id: group, text: "three"))
        #expect(error.code == .rateLimited)
        #expect(error.temporary == true)
        #expect(error.retryAfterMs == 500)
        // Nothing was stored for the rejected command.
        #expect(try await fixture.store.chat(group)?.seq == 3)
        fixture.clock.advance(by: 500)
        _ = try await fixture.send("alice", group, "three, later")
    }

    @Test func aFloodingSessionIsToldToClose() async throws {
        let fixture = ServiceFixture(limits: Self.limits(messages: RateLimit(perSecond: 1, burst: 1), flood: 3))
        let group = try await fixture.group("alice", title: "Sprints")
        let alice = Caller(userId: "alice", deviceId: "phone", sessionId: "s-alice-phone")
        await fixture.harness.open(alice)
        let frame = TestCommand(id: 5, op: "chat.send", args: Text(chat_id: group, text: "spam")).frame
        var closes: [CloseCode?] = []
        for _ in 0..<4 { closes.append(await fixture.harness.run(frame, from: alice).close) }
        #expect(closes == [nil, nil, nil, .rateLimitExceeded])
        // The closing outcome still carries the rate_limited reply.
        let last = await fixture.harness.run(frame, from: alice)
        let reply = try TestReply<Empty>(frame: last.reply)
        #expect(reply.error?.code == .rateLimited)
    }

    @Test func sessionsThatAreNotOpenAreNotLimited() async throws {
        // The dispatcher's other tests run commands without opening sessions.
        let fixture = ServiceFixture(limits: Self.limits(messages: RateLimit(perSecond: 1, burst: 1)))
        let group = try await fixture.group("alice", title: "Tempo")
        for i in 0..<5 { _ = try await fixture.send("alice", group, "m\(i)") }
    }

    @Test func aClosedSessionsBucketsAreDropped() async throws {
        let fixture = ServiceFixture(limits: Self.limits(messages: RateLimit(perSecond: 1, burst: 1)))
        let group = try await fixture.group("alice", title: "Hills")
        let alice = Caller(userId: "alice", deviceId: "phone", sessionId: "s-alice-phone")
        await fixture.harness.open(alice)
        _ = try await fixture.send("alice", group, "one")
        #expect(try await fixture.failure("alice", "chat.send", Text(chat_id: group, text: "two")).code == .rateLimited)
        await fixture.harness.close(alice)
        // The pipeline's limiter is private: what shows its buckets are gone is
        // that the session's next send, at the same instant, is not limited
        // (a session without buckets is not limited, see above).
        _ = try await fixture.send("alice", group, "two, after the close")
    }
}
