import Testing
@testable import SocialLWS

@Suite struct DrainTests {
    private func started(maxClosing: Int = 2, holdMaxMs: Int64 = 5000) -> Drain {
        var drain = Drain(maxClosing: maxClosing, holdMaxMs: holdMaxMs)
        let didStart = drain.start(now: 0, timeoutMs: 30_000)
        #expect(didStart)
        return drain
    }

    @Test func nothingIsTrackedBeforeTheDrainStarts() {
        var drain = Drain(maxClosing: 2, holdMaxMs: 5000)
        drain.touched(1)
        drain.closed()
        let turn = drain.takeTurn()
        #expect(turn == nil)
        #expect(!drain.mayStop(now: 1_000_000, nothingLeft: true))
    }

    @Test func aSecondStartKeepsTheFirstDeadline() {
        var drain = started()
        let didStart = drain.start(now: 10_000, timeoutMs: 1)
        #expect(!didStart)
        #expect(drain.deadlineMs == 30_000)
        #expect(!drain.isPastDeadline(now: 30_000))
        #expect(drain.isPastDeadline(now: 30_001))
    }

    @Test func noMoreThanMaxClosingCloseAtOnceAndTheRestAreHeldInOrder() {
        var drain = started(maxClosing: 2)
        var chosen = drain.choose([1, 2, 3, 4], closing: 0, now: 100) { _ in true }
        #expect(chosen == [1, 2])
        #expect(drain.heldCount == 2)
        // Nothing finished closing: the held stay held.
        chosen = drain.choose([], closing: 2, now: 200) { _ in true }
        #expect(chosen == [])
        #expect(drain.heldCount == 2)
        // One finished: the oldest held goes first, before a new candidate.
        chosen = drain.choose([5], closing: 1, now: 300) { _ in true }
        #expect(chosen == [3])
        #expect(drain.heldCount == 2)
    }

    @Test func aSessionThatMayNotCloseIsNeitherClosedNorHeld() {
        var drain = started(maxClosing: 1)
        let chosen = drain.choose([1, 2], closing: 0, now: 0) { $0 == 2 }
        #expect(chosen == [2])
        #expect(drain.heldCount == 0)
    }

    @Test func aHeldSessionThatIsBusyAgainLeavesTheHeldList() {
        var drain = started(maxClosing: 1)
        var chosen = drain.choose([1, 2], closing: 0, now: 0) { _ in true }
        #expect(chosen == [1])
        #expect(drain.heldCount == 1)
        // Session 2 received a command meanwhile: it may not close now.
        chosen = drain.choose([], closing: 0, now: 10) { $0 != 2 }
        #expect(chosen == [])
        #expect(drain.heldCount == 0)
    }

    @Test func aSessionHeldForHoldMaxClosesWhateverTheCount() {
        var drain = started(maxClosing: 1, holdMaxMs: 5000)
        var chosen = drain.choose([1, 2], closing: 0, now: 1000) { _ in true }
        #expect(chosen == [1])
        chosen = drain.choose([], closing: 1, now: 5999) { _ in true }
        #expect(chosen == [])
        // Held since 1000: at 6000 it has waited 5 s, though session 1 still closes.
        chosen = drain.choose([], closing: 1, now: 6000) { _ in true }
        #expect(chosen == [2])
        #expect(drain.heldCount == 0)
    }

    @Test func aSessionBothHeldAndTouchedIsChosenOnceAndKeepsItsHoldTime() {
        var drain = started(maxClosing: 1, holdMaxMs: 5000)
        var chosen = drain.choose([1, 2], closing: 0, now: 0) { _ in true }
        #expect(chosen == [1])
        // Touched again (and still idle): one entry, held since 0, not since 4000.
        chosen = drain.choose([2, 2], closing: 1, now: 4000) { _ in true }
        #expect(chosen == [])
        #expect(drain.heldCount == 1)
        chosen = drain.choose([2], closing: 1, now: 5000) { _ in true }
        #expect(chosen == [2])
    }

    @Test func aTurnLooksAtWhatItTouchedOrAtTheHeldOnesWhenRoomWasFreed() {
        var drain = started(maxClosing: 1)
        var turn = drain.takeTurn()
        #expect(turn == nil)
        drain.touched(7)
        drain.touched(8)
        turn = drain.takeTurn()
        #expect(turn == [7, 8])
        turn = drain.takeTurn()
        #expect(turn == nil)
        // A close with nothing held frees no room worth a look.
        drain.closed()
        turn = drain.takeTurn()
        #expect(turn == nil)
        _ = drain.choose([1, 2], closing: 0, now: 0) { _ in true }
        drain.closed()
        turn = drain.takeTurn()
        #expect(turn == [])
        let chosen = drain.choose([], closing: 0, now: 1) { _ in true }
        #expect(chosen == [2])
    }

    @Test func theLoopStopsWhenNothingIsLeftOrAfterTheGrace() {
        let drain = started()
        #expect(drain.mayStop(now: 0, nothingLeft: true))
        #expect(!drain.mayStop(now: 30_000 + Drain.stopGraceMs, nothingLeft: false))
        #expect(drain.mayStop(now: 30_001 + Drain.stopGraceMs, nothingLeft: false))
    }
}
