import Foundation
import Logging
import SocialCore

/// The store's own threads: every libmongoc call runs here, never on Swift's
/// cooperative pool nor on a caller's thread. A caller enqueues a job and
/// suspends; a worker pops a client from the pool, runs the job, pushes the
/// client back, and resumes the caller.
///
/// Threads: `run`, `close` and `stopAccepting` from any task or thread.
/// `@unchecked Sendable` because the queue, the running count and the exit
/// waiters are only touched while holding `condition`, and the pool is
/// thread-safe until `close` destroys it after every worker has exited.
final class MongoWorkers: @unchecked Sendable {
    typealias Job = (MongoConnection?) -> Void

    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var closed = false
    private var running: Int
    private var exitWaiters: [CheckedContinuation<Void, Never>] = []
    private let pool: MongoPool
    private let database: String
    /// What the collections were asked (recorded only once started: tests).
    let queries = MongoQueryLog()

    /// Starts `count` threads named `mongo-worker-N`.
    init(pool: MongoPool, database: String, count: Int) {
        self.pool = pool
        self.database = database
        running = max(1, count)
        for index in 0..<running {
            Thread.startNamed("mongo-worker-\(index)") { [self] in loop() }
        }
    }

    /// Runs `body` on a worker with a connection and returns its result.
    /// Errors become `StoreError`s; a closed store answers `unavailable`.
    /// The caller's request id and trace stay bound on the worker while
    /// `body` runs, so what libmongoc logs for it names the command.
    func run<T: Sendable>(_ body: @escaping @Sendable (MongoConnection) throws -> T) async throws -> T {
        let context = RequestContext.current
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            submit { connection in
                guard let connection else {
                    return continuation.resume(throwing: StoreError.unavailable("mongo: store is closed"))
                }
                context.bind {
                    do { continuation.resume(returning: try body(connection)) } catch {
                        continuation.resume(throwing: StoreError.from(error))
                    }
                }
            }
        }
    }

    /// Queues `job` for the next free worker, which calls it with a
    /// connection; a closed store calls it at once, on the caller's thread,
    /// with nil. Jobs start in the order they were queued.
    func submit(_ job: @escaping Job) {
        condition.lock()
        let accepted = !closed
        if accepted {
            jobs.append(job)
            condition.signal()
        }
        condition.unlock()
        if !accepted { job(nil) }
    }

    /// Refuses new jobs, lets queued ones finish, waits for every thread to
    /// exit, then destroys the pool. Idempotent.
    func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            closed = true
            condition.broadcast()
            if running == 0 {
                condition.unlock()
                continuation.resume()
            } else {
                exitWaiters.append(continuation)
                condition.unlock()
            }
        }
        pool.close()
    }

    /// Refuses new jobs without waiting: the threads finish what is queued and
    /// exit, and the pool goes when the last reference does (a store dropped
    /// without `close`).
    func stopAccepting() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    // MARK: Worker threads

    private func loop() {
        while let job = next() {
            // The client goes back to the pool when `connection` is released, before the next job.
            let connection = pool.pop().map { MongoConnection(client: $0, database: database, queries: queries) }
            job(connection)
        }
        condition.lock()
        running -= 1
        let waiters = running == 0 ? exitWaiters : []
        if running == 0 { exitWaiters = [] }
        condition.unlock()
        for waiter in waiters { waiter.resume() }
    }

    /// Blocks for the next job; nil once closed and drained.
    private func next() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while jobs.isEmpty && !closed { condition.wait() }
        return jobs.isEmpty ? nil : jobs.removeFirst()
    }
}
