/// The order rules of one connection's commands, as a value with no I/O.
///
/// - **Replies go out in the order the commands arrived**, whatever order
///   they finish in: each command takes a slot at arrival, and a finished
///   reply waits until every earlier slot's reply has gone.
/// - **Chat-log changes are pipelined**: many may run at once, submitted in
///   arrival order to the store's queue, which applies them in that order.
/// - **Any other store command is a barrier**: it starts once everything
///   before it has finished, and nothing after it starts until it has
///   finished (so `group.join` then `chat.send` into that group works, and a
///   read sees the connection's earlier writes).
/// - **Immediate commands** (answered at arrival: `ping`, typing, refusals)
///   start nothing; only their reply is ordered.
///
/// Commands wait, in order, until `start` is allowed (the session is ready).
struct CommandOrder<Job> {
    /// How a command runs, as far as order goes.
    enum Lane: Equatable, Sendable {
        case immediate
        case pipelined
        case barrier
    }

    struct Started {
        let slot: UInt64
        let job: Job
        let lane: Lane
    }

    private struct Waiting {
        let slot: UInt64
        let job: Job
        let lane: Lane
    }

    private var waiting: [Waiting] = []
    private var waitingHead = 0
    private var nextSlot: UInt64 = 0
    /// The slot whose reply goes out next.
    private var nextReply: UInt64 = 0
    /// Replies that finished ahead of an earlier slot's.
    private var finished: [UInt64: [UInt8]] = [:]
    private(set) var pipelinedRunning = 0
    private(set) var barrierRunning = false

    /// Commands whose reply has not gone out yet (waiting, running, or finished out of order).
    var inflight: Int { Int(nextSlot - nextReply) }

    /// Commands that arrived but have not started.
    var waitingCount: Int { waiting.count - waitingHead }

    /// Whether nothing runs and nothing waits (every reply has gone out).
    var isIdle: Bool { inflight == 0 }

    /// A command arrived: its slot. An `.immediate` command has no job to
    /// start: call `finish` with its reply at once.
    mutating func arrive(_ lane: Lane, job: Job?) -> UInt64 {
        let slot = nextSlot
        nextSlot += 1
        if lane != .immediate, let job { waiting.append(Waiting(slot: slot, job: job, lane: lane)) }
        return slot
    }

    /// The waiting commands that may start now, in arrival order; they count as running.
    mutating func startable() -> [Started] {
        var started: [Started] = []
        while waitingHead < waiting.count, !barrierRunning {
            let next = waiting[waitingHead]
            if next.lane == .barrier {
                guard pipelinedRunning == 0 else { break }
                barrierRunning = true
            } else {
                pipelinedRunning += 1
            }
            waitingHead += 1
            started.append(Started(slot: next.slot, job: next.job, lane: next.lane))
        }
        compact()
        return started
    }

    /// A command finished with `reply`: the replies that may go out now, in order.
    mutating func finish(_ slot: UInt64, lane: Lane, reply: [UInt8]) -> [[UInt8]] {
        switch lane {
        case .pipelined: pipelinedRunning -= 1
        case .barrier: barrierRunning = false
        case .immediate: break
        }
        guard slot >= nextReply else { return [] }
        var out: [[UInt8]] = []
        if slot == nextReply {
            out.append(reply)
            nextReply += 1
            while let next = finished.removeValue(forKey: nextReply) {
                out.append(next)
                nextReply += 1
            }
        } else {
            finished[slot] = reply
        }
        return out
    }

    /// Drops the commands that have not started (the session is closing); returns how many.
    mutating func dropWaiting() -> Int {
        let dropped = waitingCount
        waiting.removeAll()
        waitingHead = 0
        return dropped
    }

    private mutating func compact() {
        if waitingHead == waiting.count {
            waiting.removeAll(keepingCapacity: waiting.capacity <= 64)
            waitingHead = 0
        } else if waitingHead > 32, waitingHead * 2 > waiting.count {
            waiting.removeFirst(waitingHead)
            waitingHead = 0
        }
    }
}
