import Foundation

/// A task executor on a thread of its own, for tests that time an async
/// call: code run with `withTaskExecutorPreference(executor)` is resumed here,
/// so other tests that block Swift's cooperative threads (two on a two-core
/// machine) do not add their waits to the measurement.
///
/// Threads: `enqueue` and `stop` from any thread; jobs run on the executor's
/// thread. `@unchecked Sendable` because `jobs` and `stopped` are only touched
/// while holding `condition`.
public final class ThreadTaskExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopped = false

    public init(name: String) {
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread exit once its queue is empty. Call after the last job was enqueued.
    public func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
