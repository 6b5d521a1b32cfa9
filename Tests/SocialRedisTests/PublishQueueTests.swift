import SocialCore
import Testing
@testable import SocialRedis

@Suite struct PublishQueueTests {
    func event(_ n: Int, ephemeral: Bool = false) -> BusEvent {
        BusEvent(topic: .chat("c"), frame: Array("\(n)".utf8), ephemeral: ephemeral)
    }

    func numbers(_ events: [BusEvent]) -> [Int] { events.map { Int(String(decoding: $0.frame, as: UTF8.self))! } }

    @Test func keepsOrderAndPopsInBatches() {
        var queue = PublishQueue(limit: 100)
        for n in 0..<10 { #expect(queue.push(event(n, ephemeral: n % 3 == 0)) == nil) }
        #expect(numbers(queue.pop(max: 4)) == [0, 1, 2, 3])
        #expect(numbers(queue.pop(max: 100)) == [4, 5, 6, 7, 8, 9])
        #expect(queue.isEmpty)
        #expect(queue.pop(max: 10).isEmpty)
    }

    @Test func whenFullDropsTheOldestEphemeralFirst() {
        var queue = PublishQueue(limit: 4)
        _ = queue.push(event(1))
        _ = queue.push(event(2, ephemeral: true))
        _ = queue.push(event(3))
        _ = queue.push(event(4, ephemeral: true))
        #expect(queue.push(event(5)) == event(2, ephemeral: true))
        #expect(queue.push(event(6)) == event(4, ephemeral: true))
        #expect(numbers(queue.pop(max: 10)) == [1, 3, 5, 6])
    }

    @Test func thenTheOldestDurableEvent() {
        var queue = PublishQueue(limit: 3)
        for n in 1...3 { _ = queue.push(event(n)) }
        #expect(queue.push(event(4)) == event(1))
        #expect(queue.push(event(5, ephemeral: true)) == event(5, ephemeral: true), "the new ephemeral event is the oldest ephemeral one")
        #expect(numbers(queue.pop(max: 10)) == [2, 3, 4])
        #expect(queue.count == 0)
    }

    @Test func storageStaysBoundedWhileDropping() {
        var queue = PublishQueue(limit: 100)
        var dropped = 0
        for n in 0..<100_000 where queue.push(event(n, ephemeral: n % 2 == 1)) != nil { dropped += 1 }
        #expect(dropped == 100_000 - 100)
        #expect(queue.count == 100)
        #expect(queue.storageCount <= 2 * 100 + 64)
        // Only durable events survive, the newest 100 of them.
        #expect(numbers(queue.pop(max: 1000)) == Array(stride(from: 99_800, to: 100_000, by: 2)))
    }
}
