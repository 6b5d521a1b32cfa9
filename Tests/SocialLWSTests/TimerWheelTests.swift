import Testing
@testable import SocialLWS

/// The tick's wheel: each id is due once, in the second of its deadline (never
/// before, never a tick late); far deadlines wait at the end; a stall returns
/// everything. And a session ticked only when the wheel says acts exactly as
/// one ticked every second.
@Suite struct TimerWheelTests {
    @Test func anIdIsDueInTheSecondOfItsDeadlineAndOnce() {
        var wheel = TimerWheel(span: 8, now: 10_000)
        wheel.schedule(1, at: 11_000)
        wheel.schedule(2, at: 11_001)   // rounds up to second 12
        wheel.schedule(3, at: 9_000)    // already past: the next tick
        #expect(wheel.due(now: 10_500) == [3])
        #expect(wheel.due(now: 10_900) == [], "second 10 was visited")
        #expect(wheel.due(now: 11_000) == [1])
        #expect(wheel.due(now: 11_999) == [], "second 11 was visited")
        #expect(wheel.due(now: 12_000) == [2])
        #expect(wheel.count == 0)
    }

    @Test func aDeadlineBeyondTheSpanWaitsInTheLastSlot() {
        var wheel = TimerWheel(span: 4, now: 0)
        wheel.schedule(7, at: 100_000)
        #expect(wheel.due(now: 2_000) == [])
        #expect(wheel.due(now: 3_000) == [7], "at the wheel's end, to be scheduled again")
    }

    @Test func aStallLongerThanTheWheelReturnsEveryIdOnce() {
        var wheel = TimerWheel(span: 4, now: 0)
        for id in 1...4 { wheel.schedule(UInt64(id), at: Int64(id) * 1000) }
        #expect(wheel.due(now: 60_000).sorted() == [1, 2, 3, 4])
        wheel.schedule(9, at: 60_500)
        #expect(wheel.due(now: 61_000) == [9])
    }

    @Test func aSessionTickedOnlyWhenDueActsAsOneTickedEverySecond() {
        typealias Machine = SessionMachine<String>
        let timing = Machine.Timing(idleTimeoutMs: 75_000, pingIntervalMs: 30_000, tokenLeewaySeconds: 60)
        // Frames arrive at these seconds; the last one long before the token (exp 400 s) runs out.
        var seed: UInt64 = 42
        var receives = Set<Int64>()
        for second in Int64(1)...250 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            if seed >> 61 == 0 || (second > 120 && second < 200) { receives.insert(second) }
        }
        func run(everySecond: Bool) -> [String] {
            var machine = Machine(timing: timing, maxInflight: 8, tokenExpiresAt: 400, now: 0)
            var wheel = TimerWheel(span: 16, now: 0)
            wheel.schedule(1, at: machine.nextCheck(now: 0, wallSeconds: 0))
            var actions: [String] = []
            for second in Int64(1)...600 {
                let now = second * 1000
                if receives.contains(second) { machine.received(now: now - 300) }
                let visit = everySecond || !wheel.due(now: now).isEmpty
                guard visit, machine.phase != .closing else { continue }
                let action = machine.tick(now: now, wallSeconds: Double(second))
                switch action {
                case .none: break
                case .ping: actions.append("\(second): ping")
                case .close(let code, _):
                    actions.append("\(second): close \(code.rawValue)")
                    _ = machine.close(code)
                }
                if !everySecond { wheel.schedule(1, at: machine.nextCheck(now: now, wallSeconds: Double(second))) }
            }
            return actions
        }
        let every = run(everySecond: true)
        #expect(every.count > 5)
        #expect(every.last?.hasSuffix("close 1008") == true || every.last?.hasSuffix("close 4000") == true)
        #expect(run(everySecond: false) == every)
    }
}
