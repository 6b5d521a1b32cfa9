import Dispatch
import Synchronization

/// A FIFO of jobs for the store's own threads.
///
/// The jobs sit under a `Mutex`; a consumer that finds none registers as a
/// sleeper and waits on a semaphore, and a producer signals the semaphore
/// only when a consumer sleeps. So a push while the writer is busy costs a
/// lock and an append, no wake-up (and no system call).
///
/// Threads: any thread may `push` and `close`; the store's worker threads call `take`.
final class WorkQueue<Job: Sendable>: Sendable {
    private struct State {
        var jobs: [Job] = []
        var head = 0
        var closed = false
        /// `nudge` was called since a consumer last returned from `takeOrNudged`.
        var nudged = false
        /// Consumers waiting on `wake` (each owed one signal when work arrives).
        var sleepers = 0

        /// Up to `max` jobs, oldest first.
        mutating func take(max: Int) -> [Job] {
            let available = jobs.count - head
            if available <= max {
                let batch = head == 0 ? jobs : Array(jobs[head...])
                jobs.removeAll(keepingCapacity: true)
                head = 0
                return batch
            }
            let batch = Array(jobs[head..<(head + max)])
            head += max
            if head > jobs.count / 2 {
                jobs.removeFirst(head)
                head = 0
            }
            return batch
        }
    }

    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)

    /// Queues `job`; false when the queue is closed (the job will not run).
    func push(_ job: Job) -> Bool {
        let (accepted, wakeOne) = state.withLock { state -> (Bool, Bool) in
            guard !state.closed else { return (false, false) }
            state.jobs.append(job)
            guard state.sleepers > 0 else { return (true, false) }
            state.sleepers -= 1
            return (true, true)
        }
        if wakeOne { wake.signal() }
        return accepted
    }

    /// Blocks until jobs are queued or the queue is closed. Returns up to
    /// `max` jobs, oldest first; empty only once the queue is closed and drained.
    func take(max: Int) -> [Job] {
        while true {
            guard let batch = takeOrNudged(max: max) else { return [] }
            if !batch.isEmpty { return batch }
        }
    }

    /// `take`, which also returns, empty, when `nudge` was called since it
    /// last returned; nil once the queue is closed and drained. For a queue
    /// with one consumer.
    func takeOrNudged(max: Int) -> [Job]? {
        while true {
            let (batch, more) = state.withLock { state -> ([Job]??, Bool) in
                if state.head < state.jobs.count {
                    let batch = state.take(max: max)
                    // Jobs left over: another sleeping consumer may take them.
                    let more = state.head < state.jobs.count && state.sleepers > 0
                    if more { state.sleepers -= 1 }
                    return (.some(batch), more)
                }
                if state.nudged {
                    state.nudged = false
                    return (.some([]), false)
                }
                if state.closed { return (.some(nil), false) }
                state.sleepers += 1
                return (nil, false)
            }
            if more { wake.signal() }
            if let batch { return batch }
            wake.wait()
        }
    }

    /// Makes the consumer's `takeOrNudged` return (at once if it waits). Any thread.
    func nudge() {
        let wakeOne = state.withLock { state -> Bool in
            state.nudged = true
            guard state.sleepers > 0 else { return false }
            state.sleepers -= 1
            return true
        }
        if wakeOne { wake.signal() }
    }

    /// Up to `max` jobs queued now, oldest first; empty when none (never blocks).
    func takeQueued(max: Int) -> [Job] {
        state.withLock { state in state.head < state.jobs.count ? state.take(max: max) : [] }
    }

    /// How many jobs wait to be taken.
    var count: Int { state.withLock { $0.jobs.count - $0.head } }

    /// Refuses new jobs and wakes every consumer; queued jobs still run.
    func close() {
        let sleepers = state.withLock { state -> Int in
            state.closed = true
            defer { state.sleepers = 0 }
            return state.sleepers
        }
        for _ in 0..<sleepers { wake.signal() }
    }
}
