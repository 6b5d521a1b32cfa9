import Testing
@testable import SocialLWS

/// The heap is trimmed after a burst of set-ups, once the burst is over; a
/// stream that never pauses waits at most a minute; a few sockets get none.
@Suite struct HeapTrimTests {
    /// The seconds (from 1) whose tick trims, when `perSecond[i]` sockets come in second i + 1.
    static func trims(_ perSecond: [Int]) -> [Int] {
        var trim = HeapTrim()
        var seconds: [Int] = []
        for (index, sockets) in perSecond.enumerated() {
            for _ in 0..<sockets { trim.socketCreated() }
            if trim.isDue(now: Int64(index + 1) * 1000) { seconds.append(index + 1) }
        }
        return seconds
    }

    @Test func aBurstIsTrimmedInTheFirstTickWithoutNewSockets() {
        #expect(Self.trims([HeapTrim.minSockets, 0, 0, 0]) == [2])
        #expect(Self.trims([600, 600, 0, 0]) == [3], "the burst spans two seconds")
    }

    @Test func fewSocketsAreNeverWorthATrim() {
        #expect(Self.trims(Array(repeating: 1, count: 200) + [0]) == [])
        #expect(Self.trims(Array(repeating: 1, count: 200) + [HeapTrim.minSockets, 0]) == [202], "the few add up")
    }

    @Test func aStreamThatNeverPausesIsTrimmedAfterTheLongestWait() {
        // 100 a second: due after 10 s, trimmed 60 s later, and again.
        #expect(Self.trims(Array(repeating: 100, count: 140)) == [70, 140])
    }
}
