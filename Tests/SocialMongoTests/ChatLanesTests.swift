import Foundation
@testable import SocialMongo
import Synchronization
import Testing

/// The per-chat lanes of `MongoChatStore`: a chat's changes start one at a
/// time, in submission order; other chats do not wait for it. No database.
@Suite struct ChatLanesTests {
    /// What the lanes started, and when each change finished.
    final class Trace: Sendable {
        let events = Mutex<[String]>([])
        func record(_ event: String) { events.withLock { $0.append(event) } }
    }

    @Test func aChatsChangesRunOneAtATimeInSubmissionOrder() async throws {
        let lanes = ChatLanes()
        let trace = Trace()
        let done = DispatchSemaphore(value: 0)
        let count = 50
        // Each change "runs" on another thread (as on a worker) and finishes later.
        for i in 0..<count {
            lanes.submit("g") {
                trace.record("start \(i)")
                Thread {
                    usleep(UInt32.random(in: 0...300))
                    trace.record("end \(i)")
                    lanes.finished("g")
                    if i == count - 1 { done.signal() }
                }.start()
            }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread { done.wait(); continuation.resume() }.start()
        }
        let expected = (0..<count).flatMap { ["start \($0)", "end \($0)"] }
        #expect(trace.events.withLock { $0 } == expected)
    }

    @Test func anotherChatDoesNotWaitBehindABusyOne() {
        let lanes = ChatLanes()
        let trace = Trace()
        lanes.submit("busy") { trace.record("busy 1") }            // never finished yet
        lanes.submit("busy") { trace.record("busy 2") }
        lanes.submit("other") { trace.record("other 1") }
        #expect(trace.events.withLock { $0 } == ["busy 1", "other 1"])
        lanes.finished("busy")
        #expect(trace.events.withLock { $0 } == ["busy 1", "other 1", "busy 2"])
        lanes.finished("busy")
        lanes.submit("busy") { trace.record("busy 3") }             // the lane was closed: starts at once
        #expect(trace.events.withLock { $0 }.last == "busy 3")
    }
}
