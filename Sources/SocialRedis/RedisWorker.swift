import Foundation
import Logging
import SocialCore

/// What one Redis worker does with its connection. `RedisWorker` runs it on
/// the worker's own thread: it opens a connection, serves it until it fails
/// or the worker stops, and opens another after a backoff.
///
/// Threads: every requirement runs on the worker's thread only, which alone
/// touches the connection.
protocol RedisWorkerBody: AnyObject {
    associatedtype Connection
    /// Connects and prepares the connection (`SELECT`, scripts, the consumer
    /// group, ...); throws when Redis cannot be reached.
    func open() throws -> Connection
    /// Uses the connection until the worker stops (returns) or the connection
    /// fails (throws).
    func serve(_ connection: Connection) throws
    /// `open` failed (`failures` attempts in a row so far).
    func connectFailed(_ error: any Error, failures: Int)
    /// `serve` threw: the connection is gone.
    func lost(_ error: any Error)
    /// The thread is about to exit (after `stop`).
    func finished()
}

extension RedisWorkerBody {
    func connectFailed(_ error: any Error, failures: Int) {}
    func lost(_ error: any Error) {}
    func finished() {}
}

/// The thread of one Redis worker, written once for all of them (the bus's
/// publisher and subscriber, the presence store's worker, the notification
/// stream ingest): connect with capped, jittered backoff; serve the
/// connection; after a failure wait a backoff step and connect again; stop
/// when asked, waking the thread wherever it waits; let others wait for the
/// exit, blocking (`waitUntilExited`) or suspending (`exited`).
///
/// The worker's state that other threads touch (its queue, its flags) lives
/// under `condition`, the worker's one lock, which `stop` broadcasts: a body
/// that waits on it for work is woken by a stop too. A body that sleeps
/// elsewhere (the subscriber, in `poll` on its wake pipe) passes `onStop`
/// to be woken.
///
/// Logs, with the worker's name and Redis address: the first failed connect
/// as a warning (later ones in a row at debug), each connect at info with the
/// attempts it took, each lost connection as a warning.
///
/// Threads: `start`, `stop`, `isStopping`, `waitUntilExited` and `exited`
/// from any thread; `sleep` and `run` on the worker's thread.
/// `@unchecked Sendable`: `stopping`, `hasExited` and `exitWaiters` are only
/// touched under `condition`; `backoff` only by the worker's thread.
final class RedisWorker: @unchecked Sendable {
    /// For logs: `redis publisher`, `redis presence store`, ...
    let name: String
    let url: RedisURL
    let logger: Logger
    /// The worker's lock: its stop and exit state, and the body's shared state.
    let condition = NSCondition()
    private var stopping = false
    private var hasExited = false
    private var exitWaiters: [CheckedContinuation<Void, Never>] = []
    private var backoff: Backoff
    private let onStop: (@Sendable () -> Void)?

    /// - Parameters:
    ///   - name: for logs and the thread's name.
    ///   - reconnect: the first wait after a failure and the longest (clamped values).
    ///   - onStop: wakes a body that sleeps outside `condition`; any thread, must not block.
    init(name: String, url: RedisURL, logger: Logger, reconnect: (initial: Double, max: Double),
         onStop: (@Sendable () -> Void)? = nil) {
        self.name = name
        self.url = url
        self.logger = logger
        self.backoff = Backoff(initialSeconds: reconnect.initial, maxSeconds: reconnect.max)
        self.onStop = onStop
    }

    /// Starts the thread running `body`; it holds `body` until it exits. Any thread, once.
    func start<Body: RedisWorkerBody>(_ body: Body) {
        let handoff = ThreadHandoff(body)
        startBusThread(name: name.replacingOccurrences(of: " ", with: "-")) { [self] in run(handoff.take()) }
    }

    /// Asks the thread to exit; wakes it. Any thread; idempotent.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
        onStop?()
    }

    /// Whether `stop` was called. Any thread (takes `condition`).
    var isStopping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopping
    }

    /// Whether `stop` was called, for a caller that holds `condition`.
    var isStoppingLocked: Bool { stopping }

    /// Blocks until the thread has exited (after `stop`). Any thread but the worker's.
    func waitUntilExited() {
        condition.lock()
        while !hasExited { condition.wait() }
        condition.unlock()
    }

    /// Returns once the thread has exited (after `stop`), suspending rather
    /// than blocking: the thread may itself wait for a task that needs a
    /// cooperative thread (the stream ingest's handler).
    func exited() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            condition.lock()
            if hasExited {
                condition.unlock()
                waiter.resume()
            } else {
                exitWaiters.append(waiter)
                condition.unlock()
            }
        }
    }

    /// Sleeps `seconds` unless stopped first; returns whether stopping. Worker thread.
    func sleep(seconds: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: seconds)
        while !stopping && condition.wait(until: deadline) {}
        return stopping
    }

    // MARK: Worker thread

    private func run<Body: RedisWorkerBody>(_ body: Body) {
        var failures = 0
        while !isStopping {
            let connection: Body.Connection
            do {
                connection = try body.open()
            } catch {
                failures += 1
                logger.log(level: failures == 1 ? .warning : .debug, "\(name) cannot connect",
                           metadata: ["redis": "\(url)", "error": "\(error)"])
                body.connectFailed(error, failures: failures)
                if sleep(seconds: backoff.delay()) { break }
                continue
            }
            logger.info("\(name) connected", metadata: ["redis": "\(url)", "attempts": "\(failures + 1)"])
            failures = 0
            backoff.reset()
            do {
                try body.serve(connection)
            } catch {
                logger.warning("\(name) lost its connection", metadata: ["redis": "\(url)", "error": "\(error)"])
                body.lost(error)
                if sleep(seconds: backoff.delay()) { break }
            }
        }
        body.finished()
        condition.lock()
        hasExited = true
        let waiters = exitWaiters
        exitWaiters = []
        condition.broadcast()
        condition.unlock()
        for waiter in waiters { waiter.resume() }
    }
}
