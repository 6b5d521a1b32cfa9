import SocialProtocol
import Testing
@testable import SocialLWS

/// A session's lifecycle without a socket: loading, ready, closing; ticks;
/// the in-flight bound; drain.
@Suite struct SessionMachineTests {
    typealias Machine = SessionMachine<String>

    static let timing = Machine.Timing(idleTimeoutMs: 75_000, pingIntervalMs: 30_000, tokenLeewaySeconds: 60)

    private func machine(maxInflight: Int = 64, expiresAt: Double = 2_000_000_000, now: Int64 = 0) -> Machine {
        Machine(timing: Self.timing, maxInflight: maxInflight, tokenExpiresAt: expiresAt, now: now)
    }

    @Test func commandsWaitWhileTheSessionLoadsItsChats() {
        var session = machine()
        guard case .accepted = session.arrive(.pipelined, job: "send") else { Issue.record("refused"); return }
        #expect(session.startable().isEmpty)
        #expect(session.phase == .loading)
        #expect(session.loaded().map(\.job) == ["send"])
        #expect(session.phase == .ready)
    }

    @Test func aCommandBeyondTheInflightLimitIsRefused() {
        var session = machine(maxInflight: 2)
        _ = session.loaded()
        for _ in 0..<2 {
            guard case .accepted = session.arrive(.pipelined, job: "send") else { Issue.record("refused early"); return }
        }
        guard case .refuse = session.arrive(.pipelined, job: "send") else { Issue.record("accepted a third"); return }
        _ = session.startable()
        _ = session.finish(0, lane: .pipelined, reply: [1])
        guard case .accepted = session.arrive(.pipelined, job: "send") else { Issue.record("still refused"); return }
    }

    @Test func closingDropsWaitingCommandsAndSendsNoMoreReplies() {
        var session = machine()
        _ = session.loaded()
        _ = session.arrive(.barrier, job: "sync")
        _ = session.arrive(.pipelined, job: "send")
        #expect(session.startable().map(\.job) == ["sync"])
        let first = session.close(.goingAway)
        let second = session.close(.idleTimeout)
        #expect(first)
        #expect(!second, "one close only")
        #expect(session.closeCode == .goingAway)
        #expect(session.finish(0, lane: .barrier, reply: [1]).isEmpty)
        #expect(session.startable().isEmpty)
    }

    @Test func ticksPingThenCloseAnIdleSession() {
        var session = machine(now: 0)
        #expect(session.tick(now: 10_000, wallSeconds: 0) == .none)
        #expect(session.tick(now: 30_000, wallSeconds: 0) == .ping)
        #expect(session.tick(now: 31_000, wallSeconds: 0) == .none, "one ping per interval")
        session.received(now: 40_000)
        #expect(session.tick(now: 110_000, wallSeconds: 0) == .ping)
        #expect(session.tick(now: 115_001, wallSeconds: 0) == .close(.idleTimeout, reason: "idle timeout"))
    }

    @Test func anExpiredTokenClosesWith1008AfterTheLeeway() {
        var session = machine(expiresAt: 1000)
        #expect(session.tick(now: 1, wallSeconds: 1059) == .none)
        guard case .close(let code, _) = session.tick(now: 2, wallSeconds: 1061) else {
            Issue.record("not closed")
            return
        }
        #expect(code == .policyViolation)
    }

    @Test func aDrainingSessionClosesOnceAnsweredSentAndQuiet() {
        var session = machine(now: 0)
        _ = session.loaded()
        _ = session.arrive(.pipelined, job: "send")
        _ = session.startable()
        #expect(!session.mayCloseForDrain(now: 1000, queueEmpty: true, pastDeadline: false), "a command runs")
        _ = session.finish(0, lane: .pipelined, reply: [1])
        #expect(!session.mayCloseForDrain(now: 1000, queueEmpty: false, pastDeadline: false), "its reply is queued")
        session.received(now: 900)
        #expect(!session.mayCloseForDrain(now: 1000, queueEmpty: true, pastDeadline: false), "not quiet yet")
        #expect(session.mayCloseForDrain(now: 1200, queueEmpty: true, pastDeadline: false))
    }

    @Test func theDrainDeadlineClosesWhateverRuns() {
        var session = machine()
        _ = session.loaded()
        _ = session.arrive(.barrier, job: "sync")
        _ = session.startable()
        #expect(session.mayCloseForDrain(now: 0, queueEmpty: false, pastDeadline: true))
        _ = session.close(.goingAway)
        #expect(!session.mayCloseForDrain(now: 0, queueEmpty: true, pastDeadline: true), "already closing")
    }
}
