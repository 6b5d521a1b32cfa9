import SocialCore
import Testing
@testable import SocialLWS

@Suite struct ChatReorderTests {
    func event(_ position: Int64?) -> BusEvent {
        BusEvent(topic: .chat("c"), frame: Array("\(position ?? -1)".utf8), position: position)
    }

    func positions(_ events: [BusEvent]) -> [Int64?] { events.map(\.position) }

    @Test func inOrderEventsPassStraightThrough() {
        var reorder = ChatReorder(windowMs: 50)
        #expect(positions(reorder.offer(event(7), chat: "c", now: 0)) == [7])
        #expect(positions(reorder.offer(event(8), chat: "c", now: 0)) == [8])
        #expect(positions(reorder.offer(event(nil), chat: "c", now: 0)) == [nil], "unpositioned events are never held")
        #expect(!reorder.isHolding)
    }

    @Test func anEventAheadWaitsForTheGapToFill() {
        var reorder = ChatReorder(windowMs: 50)
        _ = reorder.offer(event(1), chat: "c", now: 0)
        #expect(reorder.offer(event(3), chat: "c", now: 1).isEmpty)
        #expect(reorder.offer(event(4), chat: "c", now: 2).isEmpty)
        #expect(reorder.isHolding)
        #expect(positions(reorder.offer(event(2), chat: "c", now: 3)) == [2, 3, 4])
        #expect(!reorder.isHolding)
        #expect(positions(reorder.offer(event(5), chat: "c", now: 4)) == [5])
    }

    @Test func aGapThatNeverFillsIsGivenUpAfterTheWindow() {
        var reorder = ChatReorder(windowMs: 50)
        _ = reorder.offer(event(1), chat: "c", now: 0)
        _ = reorder.offer(event(4), chat: "c", now: 10)
        _ = reorder.offer(event(3), chat: "c", now: 20)
        #expect(reorder.expire(now: 59).isEmpty)
        #expect(positions(reorder.expire(now: 60)) == [3, 4])
        #expect(positions(reorder.offer(event(5), chat: "c", now: 61)) == [5])
        #expect(positions(reorder.offer(event(2), chat: "c", now: 62)) == [2], "a late event is delivered, not held")
    }

    @Test func chatsAreIndependentAndForgettable() {
        var reorder = ChatReorder(windowMs: 50)
        _ = reorder.offer(event(1), chat: "a", now: 0)
        _ = reorder.offer(event(10), chat: "b", now: 0)
        #expect(reorder.offer(event(3), chat: "a", now: 0).isEmpty)
        #expect(positions(reorder.offer(event(11), chat: "b", now: 0)) == [11])
        reorder.forget("a")
        #expect(!reorder.isHolding)
        #expect(positions(reorder.offer(event(9), chat: "a", now: 0)) == [9], "after forgetting, the next event starts afresh")
    }

    @Test func aZeroWindowDeliversInArrivalOrder() {
        var reorder = ChatReorder(windowMs: 0)
        _ = reorder.offer(event(1), chat: "c", now: 0)
        #expect(positions(reorder.offer(event(3), chat: "c", now: 0)) == [3])
    }
}
