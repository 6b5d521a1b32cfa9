import Testing
@testable import SocialLWS

@Suite struct SendQueueTests {
    func item(_ size: Int, ephemeral: Bool = false, reply: Bool = false) -> SendQueue.Item {
        .init(frame: [UInt8](repeating: 1, count: size), ephemeral: ephemeral, isReply: reply)
    }

    @Test func framesComeOutInOrder() {
        var queue = SendQueue(maxFrames: 4, maxBytes: 100)
        for n in 1...3 { #expect(queue.push(item(n)) == .queued) }
        #expect(queue.pop()?.frame.count == 1)
        #expect(queue.pop()?.frame.count == 2)
        #expect(queue.bytes == 3)
        #expect(queue.pop()?.frame.count == 3)
        #expect(queue.pop() == nil)
        #expect(queue.isEmpty)
    }

    @Test func anEphemeralEventThatDoesNotFitIsDropped() {
        var queue = SendQueue(maxFrames: 2, maxBytes: 100)
        #expect(queue.push(item(10)) == .queued)
        #expect(queue.push(item(10)) == .queued)
        #expect(queue.push(item(10, ephemeral: true)) == .droppedNew)
        #expect(queue.count == 2)
    }

    @Test func queuedEphemeralEventsMakeRoomForADurableOne() {
        var queue = SendQueue(maxFrames: 3, maxBytes: 100)
        #expect(queue.push(item(10, ephemeral: true)) == .queued)
        #expect(queue.push(item(11)) == .queued)
        #expect(queue.push(item(12, ephemeral: true)) == .queued)
        #expect(queue.push(item(13)) == .queuedAfterDropping(1))
        // The oldest ephemeral went; order of the rest is kept.
        #expect(queue.pop()?.frame.count == 11)
        #expect(queue.pop()?.frame.count == 12)
        #expect(queue.pop()?.frame.count == 13)
    }

    @Test func aDurableEventThatCannotFitOverflows() {
        var queue = SendQueue(maxFrames: 10, maxBytes: 30)
        #expect(queue.push(item(20)) == .queued)
        #expect(queue.push(item(20)) == .overflow)
        #expect(queue.count == 1)
    }

    @Test func repliesAlwaysFit() {
        var queue = SendQueue(maxFrames: 1, maxBytes: 10)
        #expect(queue.push(item(10)) == .queued)
        #expect(queue.push(item(500, reply: true)) == .queued)
        #expect(queue.count == 2)
    }

    @Test func aLongRunKeepsItsAccounting() {
        var queue = SendQueue(maxFrames: 8, maxBytes: 1000)
        var popped = 0
        for n in 0..<10_000 {
            #expect(queue.push(item(n % 7 + 1)) == .queued)
            if n % 3 != 0, queue.pop() != nil { popped += 1 }
            if queue.count >= 7 { while queue.pop() != nil { popped += 1 } }
        }
        while queue.pop() != nil { popped += 1 }
        #expect(popped == 10_000)
        #expect(queue.bytes == 0)
    }
}
