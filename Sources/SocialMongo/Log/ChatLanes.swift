import SocialCore
import Synchronization

/// One serial lane per chat for the changes this node submits: a FIFO per
/// chat id, with at most one change of a chat in flight on the worker pool.
/// The next starts when the previous one has completed (its completion has
/// run), so a connection's pipelined sends to a chat apply, take their seqs
/// and complete in submission order, and do not fight each other's
/// compare-and-set. Changes of different chats run in parallel.
///
/// Threads: any thread may `submit`; `finished` is called by whoever ran the
/// lane's current change (a worker thread), once.
final class ChatLanes: Sendable {
    typealias Start = @Sendable () -> Void

    /// The changes waiting behind a chat's change in flight.
    private struct Lane {
        var waiting: [Start] = []
        var head = 0

        mutating func next() -> Start? {
            guard head < waiting.count else { return nil }
            let start = waiting[head]
            head += 1
            if head == waiting.count {
                waiting.removeAll(keepingCapacity: true)
                head = 0
            }
            return start
        }
    }

    /// A chat has a lane while one of its changes is in flight.
    private let lanes = Mutex<[ChatID: Lane]>([:])

    /// Calls `start` now when `chat` has no change in flight, else once every
    /// change submitted before has finished. `start` must lead to exactly one
    /// `finished(chat)`.
    func submit(_ chat: ChatID, _ start: @escaping Start) {
        let startNow = lanes.withLock { lanes -> Bool in
            if lanes[chat] != nil {
                lanes[chat]!.waiting.append(start)
                return false
            }
            lanes[chat] = Lane()
            return true
        }
        if startNow { start() }
    }

    /// The change in flight on `chat`'s lane is done: starts the next one, or
    /// closes the lane when none waits.
    func finished(_ chat: ChatID) {
        let next = lanes.withLock { lanes -> Start? in
            guard lanes[chat] != nil else { return nil }
            if let next = lanes[chat]!.next() { return next }
            lanes[chat] = nil
            return nil
        }
        next?()
    }
}
