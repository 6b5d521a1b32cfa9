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

    // MARK: batches

    func frame(_ text: String) -> SendQueue.Item { .init(frame: Array(text.utf8), ephemeral: false, isReply: false) }

    @Test func aBatchJoinsQueuedFramesWithLineFeedsInOrder() {
        var queue = SendQueue(maxFrames: 8, maxBytes: 1000)
        for text in ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"] { _ = queue.push(frame(text)) }
        var buffer: [UInt8] = []
        #expect(queue.popBatch(maxBytes: 100, into: &buffer) == 3)
        #expect(String(decoding: buffer, as: UTF8.self) == "{\"a\":1}\n{\"b\":2}\n{\"c\":3}")
        #expect(queue.isEmpty)
        #expect(queue.bytes == 0)
        #expect(queue.popBatch(maxBytes: 100, into: &buffer) == 0)
    }

    @Test func aBatchStaysWithinItsByteLimitSeparatorsIncluded() {
        var queue = SendQueue(maxFrames: 16, maxBytes: 1000)
        for _ in 0..<5 { _ = queue.push(item(10)) }
        var buffer: [UInt8] = []
        // 10 + 1 + 10 = 21 fits in 21; a third frame would make 32.
        #expect(queue.popBatch(maxBytes: 21, into: &buffer) == 2)
        #expect(buffer.count == 21)
        #expect(queue.count == 3)
        #expect(queue.bytes == 30)
        buffer.removeAll()
        #expect(queue.popBatch(maxBytes: 20, into: &buffer) == 1)  // 21 would be over
        #expect(buffer.count == 10)
        buffer.removeAll()
        #expect(queue.popBatch(maxBytes: 1000, into: &buffer) == 2)
        #expect(buffer.count == 21)
        #expect(queue.isEmpty)
    }

    @Test func aFrameLargerThanTheLimitGoesAlone() {
        var queue = SendQueue(maxFrames: 8, maxBytes: 10_000)
        _ = queue.push(item(5))
        _ = queue.push(item(500))
        _ = queue.push(item(5))
        var buffer: [UInt8] = []
        #expect(queue.popBatch(maxBytes: 100, into: &buffer) == 1)
        #expect(buffer.count == 5)
        buffer.removeAll()
        #expect(queue.popBatch(maxBytes: 100, into: &buffer) == 1)  // over the limit: alone, not split
        #expect(buffer.count == 500)
        buffer.removeAll()
        #expect(queue.popBatch(maxBytes: 100, into: &buffer) == 1)
        #expect(buffer.count == 5)
    }

    @Test func aZeroLimitSendsOneFramePerBatch() {
        var queue = SendQueue(maxFrames: 8, maxBytes: 1000)
        for n in 1...3 { _ = queue.push(item(n)) }
        var buffer: [UInt8] = []
        for n in 1...3 {
            buffer.removeAll()
            #expect(queue.popBatch(maxBytes: 0, into: &buffer) == 1)
            #expect(buffer.count == n)
        }
    }

    @Test func aBatchAppendsAfterWhatTheBufferHolds() {
        // The writer keeps LWS_PRE bytes of headroom in front of the batch.
        var queue = SendQueue(maxFrames: 8, maxBytes: 1000)
        _ = queue.push(frame("x"))
        _ = queue.push(frame("y"))
        var buffer: [UInt8] = [0, 0, 0, 0]
        #expect(queue.popBatch(maxBytes: 3, into: &buffer) == 2)
        #expect(buffer == [0, 0, 0, 0, UInt8(ascii: "x"), 0x0A, UInt8(ascii: "y")])
    }

    @Test func batchingFreesRoomSoTheBoundStillHolds() {
        // Popped batches leave the queue's accounting; what is not popped still counts against it.
        var queue = SendQueue(maxFrames: 4, maxBytes: 100)
        for _ in 0..<4 { #expect(queue.push(item(20)) == .queued) }
        #expect(queue.push(item(20)) == .overflow)
        var buffer: [UInt8] = []
        #expect(queue.popBatch(maxBytes: 41, into: &buffer) == 2)
        #expect(queue.count == 2)
        #expect(queue.push(item(20)) == .queued)
        #expect(queue.push(item(20)) == .queued)
        #expect(queue.push(item(20)) == .overflow)
        #expect(queue.push(item(20, ephemeral: true)) == .droppedNew)
    }

    @Test func batchesAndSinglePopsKeepTheAccountingOverALongRun() {
        var queue = SendQueue(maxFrames: 64, maxBytes: 100_000)
        var pushed = 0
        var taken = 0
        var buffer: [UInt8] = []
        for n in 0..<20_000 {
            if queue.push(item(n % 13 + 1)) == .queued { pushed += 1 }
            if n % 5 == 0 {
                buffer.removeAll(keepingCapacity: true)
                taken += queue.popBatch(maxBytes: 64, into: &buffer)
                #expect(buffer.count <= 64)
            } else if n % 7 == 0, queue.pop() != nil {
                taken += 1
            }
        }
        while case let n = queue.popBatch(maxBytes: 1000, into: &buffer), n > 0 { taken += n }
        #expect(queue.isEmpty)
        #expect(queue.bytes == 0)
        #expect(taken == pushed)
    }
}
