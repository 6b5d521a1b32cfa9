import Foundation

/// The proxy's own threads: every upstream call (connect, write, read, all
/// bounded by the call's deadline) runs here, never on the lws service thread
/// nor on Swift's cooperative pool. A caller enqueues a job and suspends.
///
/// Threads: `run` from any task. `@unchecked Sendable` because `jobs` is only
/// touched while holding `condition`.
final class HTTPWorkers: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    /// Most jobs waiting for a thread; more are refused.
    let queueLimit: Int

    /// Starts `count` threads named `proxy-worker-N`; at most `queueLimit` jobs wait.
    init(count: Int, queueLimit: Int) {
        self.queueLimit = queueLimit
        for index in 0..<max(1, count) {
            let thread = Thread { [self] in loop() }
            thread.name = "proxy-worker-\(index)"
            thread.start()
        }
    }

    /// Runs `body` on a worker thread; nil (without running it) when the queue is full.
    func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T? {
        await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
            condition.lock()
            let accepted = jobs.count < queueLimit
            if accepted {
                jobs.append { continuation.resume(returning: body()) }
                condition.signal()
            }
            condition.unlock()
            if !accepted { continuation.resume(returning: nil) }
        }
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}
