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
/// backoff, loads the scripts on each new connection, and pings an idle
/// connection so an outage is noticed before a call needs it.
///
/// Threads: `submit`, `isConnected`, `stop` and `waitUntilExited` from any
/// thread (they take `condition` and never wait on Redis; `submit` may run a
/// refused job's completion on the caller's thread). The methods under
/// "Worker thread" run only on the thread `init` starts, which alone touches
/// the connection. `@unchecked Sendable`: `queue`, `connected`, `down` and
/// `stopping` are only touched under `condition`; the connection never
/// leaves the thread.
final class PresenceWorker: @unchecked Sendable {
    /// Most calls pipelined in one round trip (a single larger job goes alone).
    private static let pipelineLimit = 512

    private let url: RedisURL
    private let settings: RedisPresenceSettings
    private let logger: Logger
    private let condition = NSCondition()
    private var queue: [PresenceJob] = []
    private var connected = false
    /// Why Redis is unreachable, while it is (calls are refused meanwhile).
    private var down: String?
    private var stopping = false
    private let exited = DispatchSemaphore(value: 0)

    init(url: RedisURL, settings: RedisPresenceSettings, logger: Logger) {
        self.url = url
        self.settings = settings
        self.logger = logger
        startBusThread(name: "redis-presence") { [self] in run() }
    }

    /// Queues `job`, or completes it at once with `unavailable` when Redis is
    /// unreachable, the queue is full or the worker stopped. Any thread.
    func submit(_ job: PresenceJob) {
        condition.lock()
        var refusal: String?
        if stopping {
            refusal = "the presence store is closed"
        } else if let down {
            refusal = "redis \(url) is unreachable: \(down)"
        } else if queue.count >= settings.queueLimit {
            refusal = "redis \(url) is too slow: \(queue.count) presence calls waiting"
        } else {
            queue.append(job)
            condition.signal()
        }
        condition.unlock()
        if let refusal { job.complete(.failure(.unavailable(refusal))) }
    }

    /// Whether the connection is up (and its scripts loaded). Any thread.
    var isConnected: Bool {
        condition.lock()
        defer { condition.unlock() }
        return connected
    }

    /// Asks the thread to exit: queued calls fail with `unavailable`. Any thread.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    /// Blocks until the thread has exited (after `stop`): at most the connect
    /// or command timeout. Any thread but the worker's.
    func waitUntilExited() {
        exited.wait()
        exited.signal()  // later callers return at once
    }

    // MARK: Worker thread

    /// The thread's body: connect, serve, reconnect after a failure, until
    /// stopped. Worker thread only.
    private func run() {
        var backoff = Backoff(initialSeconds: settings.reconnectInitialSeconds, maxSeconds: settings.reconnectMaxSeconds)
        var failures = 0
        while !isStopping {
            let session: PresenceSession
            do {
                session = try PresenceSession.open(url, settings)
            } catch {
                failures += 1
                logger.log(level: failures == 1 ? .warning : .debug, "redis presence store cannot connect",
                           metadata: ["redis": "\(url)", "error": "\(error)"])
                markDown("\(error)")
                if waitForStop(seconds: backoff.delay()) { break }
                continue
            }
            markUp()
            backoff.reset()
            logger.info("redis presence store connected", metadata: ["redis": "\(url)", "attempts": "\(failures + 1)"])
            failures = 0
            do {
                try serve(session)
            } catch {
                logger.warning("redis presence store lost its connection", metadata: ["redis": "\(url)", "error": "\(error)"])
                markDown("\(error)")
            }
        }
        finish()
    }

    /// Runs queued jobs until stopped (returns) or the connection breaks
    /// (throws). Worker thread only: it uses the session's connection.
    private func serve(_ session: PresenceSession) throws {
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

    /// The next jobs, up to `pipelineLimit` calls; empty after a ping
    /// interval without any; nil once stopping.
    private func take() -> [PresenceJob]? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: settings.pingIntervalSeconds)
        while queue.isEmpty && !stopping {
            if !condition.wait(until: deadline) { break }
        }
        if stopping { return nil }
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
        condition.lock()
        connected = false
        down = reason
        let failed = queue
        queue = []
        condition.unlock()
        for job in failed { job.complete(.failure(.unavailable("redis \(url) is unreachable: \(reason)"))) }
    }

    private func markUp() {
        condition.lock()
        connected = true
        down = nil
        condition.unlock()
    }

    private func finish() {
        condition.lock()
        connected = false
        let failed = queue
        queue = []
        condition.unlock()
        for job in failed { job.complete(.failure(.unavailable("the presence store is closed"))) }
        exited.signal()
    }

    /// Sleeps `seconds` unless stopped first; returns whether stopping.
    private func waitForStop(seconds: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: seconds)
        while !stopping && condition.wait(until: deadline) {}
        return stopping
    }

    private var isStopping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopping
    }
}
