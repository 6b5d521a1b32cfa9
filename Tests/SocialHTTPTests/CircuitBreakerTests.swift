import Testing
@testable import SocialHTTP

/// The breaker as a value, driven by an explicit clock (milliseconds).
@Suite struct CircuitBreakerTests {
    @Test func opensAfterConsecutiveFailuresOnly() {
        var breaker = CircuitBreaker(failureThreshold: 3, openMs: 1000)
        for _ in 0..<2 { breaker.record(success: false, trial: false, now: 0) }
        breaker.record(success: true, trial: false, now: 0)  // a success resets the count
        for _ in 0..<2 { breaker.record(success: false, trial: false, now: 0) }
        #expect(breaker.state == .closed(failures: 2))
        #expect(breaker.acquire(now: 0) == .allowed(trial: false))
        breaker.record(success: false, trial: false, now: 100)
        #expect(breaker.state == .open(until: 1100))
    }

    @Test func refusesWhileOpenWithTheTimeLeft() {
        var breaker = CircuitBreaker(failureThreshold: 1, openMs: 1000)
        breaker.record(success: false, trial: false, now: 0)
        #expect(breaker.acquire(now: 400) == .refused(retryAfterMs: 600))
        #expect(breaker.acquire(now: 999) == .refused(retryAfterMs: 1))
    }

    @Test func aSuccessfulTrialClosesIt() {
        var breaker = CircuitBreaker(failureThreshold: 1, openMs: 1000)
        breaker.record(success: false, trial: false, now: 0)
        #expect(breaker.acquire(now: 1000) == .allowed(trial: true))
        #expect(breaker.state == .halfOpen)
        // Only one trial at a time.
        if case .refused = breaker.acquire(now: 1001) {} else { Issue.record("a second call went through half-open") }
        breaker.record(success: true, trial: true, now: 1050)
        #expect(breaker.state == .closed(failures: 0))
        #expect(breaker.acquire(now: 1051) == .allowed(trial: false))
    }

    @Test func aFailedTrialOpensItAgain() {
        var breaker = CircuitBreaker(failureThreshold: 2, openMs: 500)
        breaker.record(success: false, trial: false, now: 0)
        breaker.record(success: false, trial: false, now: 0)
        #expect(breaker.acquire(now: 600) == .allowed(trial: true))
        breaker.record(success: false, trial: true, now: 700)
        #expect(breaker.state == .open(until: 1200))
        #expect(breaker.acquire(now: 1100) == .refused(retryAfterMs: 100))
    }

    @Test func lateOutcomesOfOldCallsDoNotCloseIt() {
        var breaker = CircuitBreaker(failureThreshold: 1, openMs: 1000)
        breaker.record(success: false, trial: false, now: 0)
        breaker.record(success: true, trial: false, now: 10)  // started before it opened
        #expect(breaker.state == .open(until: 1000))
        _ = breaker.acquire(now: 1000)
        breaker.record(success: true, trial: false, now: 1001)  // not the trial
        #expect(breaker.state == .halfOpen)
    }

    @Test func anAbandonedTrialLetsTheNextCallTry() {
        var breaker = CircuitBreaker(failureThreshold: 1, openMs: 1000)
        breaker.record(success: false, trial: false, now: 0)
        _ = breaker.acquire(now: 1000)
        breaker.abandonTrial(now: 1001)
        #expect(breaker.acquire(now: 1001) == .allowed(trial: true))
    }
}
