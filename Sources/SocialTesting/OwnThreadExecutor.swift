import Foundation

/// A task executor with a thread of its own, for tests that measure how soon
/// something async happens. In a full test run, synchronous tests and blocking
/// sockets occupy Swift's cooperative pool (one thread per core) for seconds
/// at a time; a task resumed meanwhile waits for a free thread, and a bound
/// like "fails within 2 s" measures the test run instead of the code under
/// test. Tasks preferring this executor (child tasks inherit the preference)
/// run here instead:
///
/// ```swift
/// try await OwnThreadExecutor.run { try await timedChecks() }
/// ```
///
/// Threads: `enqueue` from any thread; jobs run on the executor's thread,
/// one at a time; the thread exits once `run` returns. `@unchecked
/// Sendable`: `jobs` and `finished` are only touched under `condition`.
public final class OwnThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var finished = false

    private init(name: String) {
        let thread = Thread { [self] in serve() }
        thread.name = name
        thread.start()
    }

    /// Runs `operation` (and the child tasks it starts) on a new executor's
    /// thread, which exits afterwards. Unstructured tasks started inside must
    /// not outlive it.
    public static func run<T: Sendable>(name: String = "test-executor",
                                        _ operation: @Sendable () async throws -> T) async rethrows -> T {
        let executor = OwnThreadExecutor(name: name)
        defer { executor.finish() }
        return try await withTaskExecutorPreference(executor, operation: operation)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        condition.signal()
        condition.unlock()
    }

    /// `run` returned: the thread exits once its queue is empty.
    private func finish() {
        condition.lock()
        finished = true
        condition.signal()
        condition.unlock()
    }

    /// The executor's thread: runs jobs as they come, until finished.
    private func serve() {
        while true {
            condition.lock()
            while jobs.isEmpty && !finished { condition.wait() }
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
