import Foundation
import Logging
import SocialCore

/// The presence store's thread: it owns one blocking hiredis connection and
/// runs the calls the store's async methods queue, pipelining whatever is
/// waiting (append every call of the waiting jobs, then read their replies:
/// one round trip for all of them).
///
/// Failing fast: while Redis is unreachable (after a failed connect or a lost
/// connection, until a reconnect succeeds) `submit` refuses calls at once
/// with `StoreError.unavailable`; calls already queued or on the wire when
/// the connection breaks fail with it. A hung Redis is noticed after the
/// command timeout (the socket's read timeout). Jobs submitted before the
/// first connect attempt ends wait for it. The thread reconnects with capped
/// backoff (`RedisWorker`), loads the scripts on each new connection, and
/// pings an idle connection so an outage is noticed before a call needs it.
///
/// Threads: `submit`, `isConnected`, `stop` and `waitUntilExited` from any
/// thread (they take `worker.condition` and never wait on Redis; `submit`
/// may run a refused job's completion on the caller's thread). The methods
/// under "Worker thread" run only on the worker's thread, which alone
/// touches the connection. `@unchecked Sendable`: `queue`, `connected` and
/// `down` are only touched under `worker.condition`; the connection never
/// leaves the thread.
final class PresenceWorker: RedisWorkerBody, @unchecked Sendable {
    /// Most calls pipelined in one round trip (a single larger job goes alone).
    private static let pipelineLimit = 512

    let url: RedisURL
    private let settings: RedisPresenceSettings
    private let worker: RedisWorker
    private var queue: [PresenceJob] = []
    private var connected = false
    /// Why Redis is unreachable, while it is (calls are refused meanwhile).
    private var down: String?

    init(url: RedisURL, settings: RedisPresenceSettings, logger: Logger) {
        self.url = url
        self.settings = settings
        worker = RedisWorker(name: "redis presence store", url: url, logger: logger,
                             reconnect: (settings.reconnectInitialSeconds, settings.reconnectMaxSeconds))
        worker.start(self)
    }

    /// Queues `job`, or completes it at once with `unavailable` when Redis is
    /// unreachable, the queue is full or the worker stopped. Any thread.
    func submit(_ job: PresenceJob) {
        worker.condition.lock()
        var refusal: String?
        if worker.isStoppingLocked {
            refusal = "the presence store is closed"
        } else if let down {
            refusal = "redis \(url) is unreachable: \(down)"
        } else if queue.count >= settings.queueLimit {
            refusal = "redis \(url) is too slow: \(queue.count) presence calls waiting"
        } else {
            queue.append(job)
            worker.condition.signal()
        }
        worker.condition.unlock()
        if let refusal { job.complete(.failure(.unavailable(refusal))) }
    }

    /// Whether the connection is up (and its scripts loaded). Any thread.
    var isConnected: Bool {
        worker.condition.lock()
        defer { worker.condition.unlock() }
        return connected
    }

    /// Asks the thread to exit: queued calls fail with `unavailable`. Any thread.
    func stop() { worker.stop() }

    /// Blocks until the thread has exited (after `stop`): at most the connect
    /// or command timeout. Any thread but the worker's.
    func waitUntilExited() { worker.waitUntilExited() }

    // MARK: Worker thread

    func open() throws -> PresenceSession {
        try PresenceSession.open(url, settings)
    }

    /// Runs queued jobs until stopped (returns) or the connection breaks (throws).
    func serve(_ session: PresenceSession) throws {
        markUp()
        while let batch = take() {
            if batch.isEmpty {
                try session.ping()
                continue
            }
            let replies: [[RedisReply]]
            do {
                replies = try session.execute(batch.map(\.calls))
            } catch {
                for job in batch { job.complete(.failure(.unavailable("redis \(url): \(error)"))) }
                throw error
            }
            for (job, reply) in zip(batch, replies) { job.complete(.success(reply)) }
        }
    }

    func connectFailed(_ error: any Error, failures: Int) { markDown("\(error)") }

    func lost(_ error: any Error) { markDown("\(error)") }

    func finished() {
        worker.condition.lock()
        connected = false
        let failed = queue
        queue = []
        worker.condition.unlock()
        for job in failed { job.complete(.failure(.unavailable("the presence store is closed"))) }
    }

    /// The next jobs, up to `pipelineLimit` calls; empty after a ping
    /// interval without any; nil once stopping.
    private func take() -> [PresenceJob]? {
        worker.condition.lock()
        defer { worker.condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: settings.pingIntervalSeconds)
        while queue.isEmpty && !worker.isStoppingLocked {
            if !worker.condition.wait(until: deadline) { break }
        }
        if worker.isStoppingLocked { return nil }
        var calls = 0
        var count = 0
        while count < queue.count && (count == 0 || calls + queue[count].calls.count <= Self.pipelineLimit) {
            calls += queue[count].calls.count
            count += 1
        }
        let batch = Array(queue[..<count])
        queue.removeFirst(count)
        return batch
    }

    /// Redis is unreachable: refuse calls from now on and fail those queued.
    private func markDown(_ reason: String) {
        worker.condition.lock()
        connected = false
        down = reason
        let failed = queue
        queue = []
        worker.condition.unlock()
        for job in failed { job.complete(.failure(.unavailable("redis \(url) is unreachable: \(reason)"))) }
    }

    private func markUp() {
        worker.condition.lock()
        connected = true
        down = nil
        worker.condition.unlock()
    }
}
