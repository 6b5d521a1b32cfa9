import SocialProtocol
import Testing
@testable import SocialLWS

/// The order rules of a connection's commands: pipelined chat-log changes,
/// barriers, and replies in arrival order, whatever order commands finish in.
@Suite struct CommandOrderTests {
    typealias Order = CommandOrder<String>

    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
    private func texts(_ replies: [[UInt8]]) -> [String] { replies.map { String(decoding: $0, as: UTF8.self) } }

    @Test func pipelinedSendsStartTogetherInArrivalOrder() {
        var order = Order()
        let slots = (0..<5).map { order.arrive(.pipelined, job: "send\($0)") }
        #expect(slots == [0, 1, 2, 3, 4])
        let started = order.startable()
        #expect(started.map(\.job) == ["send0", "send1", "send2", "send3", "send4"])
        #expect(order.pipelinedRunning == 5)
        #expect(order.inflight == 5)
    }

    @Test func repliesGoOutInArrivalOrderWhateverOrderTheyFinishIn() {
        var order = Order()
        for i in 0..<4 { _ = order.arrive(.pipelined, job: "send\(i)") }
        _ = order.startable()
        #expect(order.finish(2, lane: .pipelined, reply: bytes("r2")).isEmpty)
        #expect(order.finish(1, lane: .pipelined, reply: bytes("r1")).isEmpty)
        #expect(texts(order.finish(0, lane: .pipelined, reply: bytes("r0"))) == ["r0", "r1", "r2"])
        #expect(texts(order.finish(3, lane: .pipelined, reply: bytes("r3"))) == ["r3"])
        #expect(order.isIdle)
    }

    @Test func aBarrierWaitsForEverythingBeforeItAndHoldsEverythingAfter() {
        var order = Order()
        _ = order.arrive(.pipelined, job: "send0")
        _ = order.arrive(.barrier, job: "join")
        _ = order.arrive(.pipelined, job: "send2")
        #expect(order.startable().map(\.job) == ["send0"])
        #expect(order.startable().isEmpty, "the barrier waits for send0")
        #expect(texts(order.finish(0, lane: .pipelined, reply: bytes("r0"))) == ["r0"])
        #expect(order.startable().map(\.job) == ["join"])
        #expect(order.startable().isEmpty, "send2 waits behind the running barrier")
        #expect(texts(order.finish(1, lane: .barrier, reply: bytes("r1"))) == ["r1"])
        #expect(order.startable().map(\.job) == ["send2"])
    }

    @Test func consecutiveBarriersRunOneAtATime() {
        var order = Order()
        _ = order.arrive(.barrier, job: "history")
        _ = order.arrive(.barrier, job: "sync")
        #expect(order.startable().map(\.job) == ["history"])
        #expect(order.startable().isEmpty)
        _ = order.finish(0, lane: .barrier, reply: bytes("h"))
        #expect(order.startable().map(\.job) == ["sync"])
    }

    @Test func anImmediateReplyWaitsForEarlierReplies() {
        var order = Order()
        _ = order.arrive(.pipelined, job: "send0")
        _ = order.startable()
        let ping = order.arrive(.immediate, job: nil)
        #expect(order.finish(ping, lane: .immediate, reply: bytes("pong")).isEmpty, "behind send0's reply")
        #expect(texts(order.finish(0, lane: .pipelined, reply: bytes("r0"))) == ["r0", "pong"])
    }

    @Test func anImmediateCommandDoesNotBlockTheOnesAfterIt() {
        var order = Order()
        let ping = order.arrive(.immediate, job: nil)
        _ = order.arrive(.pipelined, job: "send1")
        #expect(order.startable().map(\.job) == ["send1"])
        #expect(texts(order.finish(ping, lane: .immediate, reply: bytes("pong"))) == ["pong"])
    }

    @Test func droppingWaitingCommandsLeavesRunningOnesToFinish() {
        var order = Order()
        _ = order.arrive(.barrier, job: "sync")
        _ = order.arrive(.pipelined, job: "send1")
        _ = order.startable()
        #expect(order.dropWaiting() == 1)
        #expect(order.startable().isEmpty)
        #expect(order.waitingCount == 0)
    }

    /// Many pipelined sends finishing in a shuffled order: every reply comes
    /// out exactly once, in slot order.
    @Test func shuffledCompletionsOfManySendsComeOutInOrder() {
        var order = Order()
        let n = 500
        for i in 0..<n { _ = order.arrive(.pipelined, job: "s\(i)") }
        #expect(order.startable().count == n)
        var generator = SplitMix(seed: 42)
        var sent: [String] = []
        for slot in (0..<UInt64(n)).shuffled(using: &generator) {
            sent += texts(order.finish(slot, lane: .pipelined, reply: bytes("r\(slot)")))
        }
        #expect(sent == (0..<n).map { "r\($0)" })
        #expect(order.isIdle)
    }
}

/// A small seeded generator, so a shuffled test is the same every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
