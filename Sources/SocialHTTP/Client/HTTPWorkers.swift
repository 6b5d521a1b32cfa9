import Foundation
import SocialCore

/// The proxy's own threads: every upstream call (connect, write, read, all
/// bounded by the call's deadline) runs here, never on the lws service thread
/// nor on Swift's cooperative pool. A caller enqueues a job and suspends.
///
/// Threads: `run` and `stop` from any task or thread. `@unchecked Sendable`
/// because `jobs`, `stopping` and `running` are only touched while holding
/// `condition`.
final class HTTPWorkers: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    /// Set by `stop`: no job is taken any more; queued ones still run.
    private var stopping = false
    /// Threads that have not exited yet.
    private var running: Int
    /// Most jobs waiting for a thread; more are refused.
    let queueLimit: Int

    /// Starts `count` threads named `proxy-worker-N`; at most `queueLimit` jobs wait.
    init(count: Int, queueLimit: Int) {
        self.queueLimit = queueLimit
        running = max(1, count)
        for index in 0..<running {
            Thread.startNamed("proxy-worker-\(index)") { [self] in loop() }
        }
    }

    /// Runs `body` on a worker thread; nil (without running it) when the
    /// queue is full or the workers are stopping.
    func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T? {
        await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
            condition.lock()
            let accepted = !stopping && jobs.count < queueLimit
            if accepted {
                jobs.append { continuation.resume(returning: body()) }
                condition.signal()
            }
            condition.unlock()
            if !accepted { continuation.resume(returning: nil) }
        }
    }

    /// Refuses new jobs, lets the queued ones finish (each is bounded by its
    /// call's deadline), and blocks until every thread has exited. Not on the
    /// lws service thread. Idempotent.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    private func loop() {
        while let job = next() { job() }
        condition.lock()
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Blocks for the next job; nil once stopping and drained.
    private func next() -> (() -> Void)? {
        condition.lock()
        defer { condition.unlock() }
        while jobs.isEmpty && !stopping { condition.wait() }
        return jobs.isEmpty ? nil : jobs.removeFirst()
    }
}
