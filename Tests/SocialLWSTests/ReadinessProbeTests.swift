import SocialCore
import Testing
@testable import SocialLWS

/// `/readyz`'s view of the backends: each probe's last answer, a probe that
/// hangs counts as not ready, and a hung probe is not started twice.
@Suite struct ReadinessProbeTests {
    let probe = ReadinessProbe(checks: [BackendCheck(name: "mongodb") { nil }, BackendCheck(name: "redis_bus") { nil }],
                               timeoutMs: 2_000)

    @Test func nothingIsReadyBeforeTheFirstAnswers() {
        #expect(!probe.isReady(now: 0))
        #expect(probe.report(now: 0).map(\.reason) == ["not probed yet", "not probed yet"])
    }

    @Test func eachBackendReportsItsLastAnswerAndWhy() {
        #expect(probe.due(now: 0) == [0, 1])
        probe.finished(0, reason: "the database does not answer")
        probe.finished(1, reason: nil)
        #expect(probe.report(now: 10) == [
            BackendStatus(name: "mongodb", ready: false, reason: "the database does not answer"),
            BackendStatus(name: "redis_bus", ready: true),
        ])
        #expect(!probe.isReady(now: 10))
        #expect(probe.due(now: 1_000) == [0, 1])
        probe.finished(0, reason: nil)
        probe.finished(1, reason: nil)
        #expect(probe.isReady(now: 1_010))
    }

    @Test func aProbeThatHangsCountsAsNotReadyAndIsNotStartedAgain() {
        #expect(probe.due(now: 0) == [0, 1])
        probe.finished(0, reason: nil)
        probe.finished(1, reason: nil)
        #expect(probe.due(now: 1_000) == [0, 1])
        probe.finished(1, reason: nil)          // mongodb's probe hangs
        #expect(probe.isReady(now: 2_500), "within the timeout, its last answer stands")
        #expect(probe.due(now: 2_000) == [1], "no second probe while one runs")
        #expect(probe.report(now: 3_000).first == BackendStatus(name: "mongodb", ready: false, reason: "no answer for 2000 ms"))
        probe.finished(0, reason: nil)
        probe.finished(1, reason: nil)
        #expect(probe.due(now: 4_000) == [0, 1])
    }

    @Test func aStoppedProbeStartsNothing() {
        probe.stop()
        #expect(probe.due(now: 0) == [])
    }
}
