import Foundation

/// A FIFO of jobs for the store's own threads.
///
/// Threads: any thread may `push` and `close`; the store's worker threads call
/// `take`. `@unchecked Sendable` because every stored field is read and
/// written only while holding `condition`.
final class WorkQueue<Job>: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var head = 0
    private var closed = false

    /// Queues `job`; false when the queue is closed (the job will not run).
    func push(_ job: Job) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    /// Blocks until jobs are queued or the queue is closed. Returns up to
    /// `max` jobs, oldest first; empty only once the queue is closed and drained.
    func take(max: Int) -> [Job] {
        condition.lock()
        defer { condition.unlock() }
        while head == jobs.count && !closed { condition.wait() }
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
        if head < jobs.count { condition.signal() }     // another consumer may take the rest
        return batch
    }

    /// How many jobs wait to be taken.
    var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return jobs.count - head
    }

    /// Refuses new jobs and wakes every consumer; queued jobs still run.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
