import Testing
@testable import SocialLWS

@Suite struct SocketBudgetTests {
    @Test func socketsAreAdmittedUpToTheCaps() {
        var budget = SocketBudget<Int>(maxSockets: 3, maxHalfOpen: 2)
        #expect(budget.admit() == .admit)
        budget.created(1)
        budget.requestStarted(1)  // a session: no longer half-open
        #expect(budget.admit() == .admit)
        budget.created(2)
        #expect(budget.admit() == .admit)
        budget.created(3)
        #expect(budget.open == 3)
        #expect(budget.halfOpenCount == 2)
    }

    @Test func pastTheHalfOpenCapTheOldestHalfOpenSocketMakesRoom() {
        var budget = SocketBudget<Int>(maxSockets: 100, maxHalfOpen: 2)
        for s in 1...2 {
            #expect(budget.admit() == .admit)
            budget.created(s)
        }
        #expect(budget.admit() == .admitEvicting(1))
        budget.created(3)
        #expect(budget.admit() == .admitEvicting(2))
        budget.created(4)
        #expect(budget.halfOpenCount == 2)
        #expect(budget.evictingCount == 2)
        budget.destroyed(1)
        budget.destroyed(2)
        #expect(budget.evictingCount == 0)
        #expect(budget.open == 2)
    }

    @Test func pastTheSocketCapOnlyAHalfOpenSocketIsEvictedNeverASessionOrARequest() {
        var budget = SocketBudget<Int>(maxSockets: 3, maxHalfOpen: 10)
        for s in 1...3 {
            #expect(budget.admit() == .admit)
            budget.created(s)
        }
        budget.requestStarted(1)
        budget.requestStarted(3)
        #expect(budget.admit() == .admitEvicting(2))
        budget.created(4)
        budget.requestStarted(4)
        #expect(budget.admit() == .refuse, "every socket is a session or a request: nothing to evict")
        budget.destroyed(2)
        #expect(budget.admit() == .refuse, "the evicted socket's room went to the socket that evicted it")
        budget.destroyed(3)
        #expect(budget.admit() == .admit)
    }

    @Test func aSocketThatSentItsRequestIsNotEvictedUntilItIsIdleAgain() {
        var budget = SocketBudget<Int>(maxSockets: 100, maxHalfOpen: 2)
        budget.created(1)
        budget.created(2)
        budget.requestStarted(1)
        budget.created(3)
        #expect(budget.admit() == .admitEvicting(2))
        budget.idle(1)  // keep-alive: waits for its next request, half-open again, newest
        budget.created(4)
        #expect(budget.admit() == .admitEvicting(3))
        #expect(budget.admit() == .admitEvicting(1))
    }

    @Test func evictionsInFlightAreBounded() {
        var budget = SocketBudget<Int>(maxSockets: 100, maxHalfOpen: 1, maxEvicting: 2)
        budget.created(1)
        #expect(budget.admit() == .admitEvicting(1))
        budget.created(2)
        #expect(budget.admit() == .admitEvicting(2))
        budget.created(3)
        #expect(budget.admit() == .refuse, "two evicted sockets not yet closed")
        budget.destroyed(1)
        #expect(budget.admit() == .admitEvicting(3))
    }

    @Test func manyRequestsOnOneKeepAliveConnectionKeepTheOrderSmall() {
        var budget = SocketBudget<Int>(maxSockets: 100, maxHalfOpen: 10)
        budget.created(1)
        budget.created(2)
        for _ in 0..<10_000 {
            budget.requestStarted(2)
            budget.idle(2)
        }
        #expect(budget.halfOpenCount == 2)
        for s in 3...10 { budget.created(s) }
        #expect(budget.admit() == .admitEvicting(1), "the oldest is still the one that never sent anything")
    }
}
