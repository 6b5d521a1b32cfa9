import Foundation
import Logging
import SocialCore

/// The bus's publisher: a thread with its own blocking connection that sends
/// queued events as pipelined `PUBLISH` commands (append a batch, then read
/// its replies: one round trip per batch).
///
/// While Redis is down, events wait in the bounded `PublishQueue`; the thread
/// reconnects with capped backoff. When a connection breaks mid-batch, the
/// durable events Redis did not acknowledge are sent again first after the
/// reconnect (a duplicate is harmless: clients ignore changes at or below
/// their position); ephemeral ones are dropped. When idle, the thread sends
/// `PING` every ping interval, so a dead connection is noticed (and
/// `isConnected` turns false) before the next event needs it.
///
/// Threads: `enqueue`, `isConnected` and `stop` from any thread; the methods
/// under "Publisher thread" only on the thread `init` starts, which alone
/// touches the connection. `@unchecked Sendable`: `queue`, `stopping` and
/// `connected` are only touched under `condition`; the connection never
/// leaves the thread.
final class RedisPublisher: @unchecked Sendable {
    private let url: RedisURL
    private let settings: RedisBusSettings
    private let logger: Logger
    private let counters: BusCounters
    private let condition = NSCondition()
    private var queue: PublishQueue
    private var stopping = false
    private var connected = false
    private let exited = DispatchSemaphore(value: 0)

    init(url: RedisURL, settings: RedisBusSettings, logger: Logger, counters: BusCounters) {
        self.url = url
        self.settings = settings
        self.logger = logger
        self.counters = counters
        self.queue = PublishQueue(limit: settings.publishQueueLimit)
        startBusThread(name: "redis-publisher") { [self] in run() }
    }

    /// Queues `events` in order and returns at once. Any thread.
    func enqueue(_ events: [BusEvent]) {
        var dropped = 0
        condition.lock()
        if !stopping {
            for event in events { dropped += queue.push(event) }
            condition.signal()
        }
        condition.unlock()
        if dropped > 0 {
            counters.update { $0.dropped += dropped }
            counters.metrics.dropped(dropped)
        }
    }

    /// Whether the publisher's connection is up. Any thread.
    var isConnected: Bool {
        condition.lock()
        defer { condition.unlock() }
        return connected
    }

    /// Asks the thread to send what is queued (if connected) and exit. Any thread.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    /// Blocks until the thread has exited (after `stop`). Any thread but the publisher's.
    func waitUntilExited() {
        exited.wait()
        exited.signal()  // later callers return at once
    }

    // MARK: Publisher thread

    private enum Next {
        case events([BusEvent])
        case idle
        case stop
    }

    private func run() {
        var connection: RedisConnection?
        var backoff = Backoff(settings)
        var retry: [BusEvent] = []
        var failures = 0
        var lost = false
        while true {
            if connection == nil {
                if isStopping { break }
                do {
                    connection = try RedisConnection.connect(
                        to: url, connectTimeout: settings.connectTimeoutSeconds, ioTimeout: settings.deadTimeoutSeconds)
                    setConnected(true)
                    if lost { counters.metrics.reconnected(.publisher) }
                    lost = false
                    backoff.reset()
                    logger.info("redis publisher connected", metadata: ["redis": "\(url)", "attempts": "\(failures + 1)"])
                    failures = 0
                } catch {
                    failures += 1
                    logger.log(level: failures == 1 ? .warning : .debug, "redis publisher cannot connect",
                               metadata: ["redis": "\(url)", "error": "\(error)"])
                    if waitForStop(seconds: backoff.delay()) { break }
                    continue
                }
            }
            guard let live = connection else { continue }
            let next: Next = retry.isEmpty ? take() : .events(retry + take(upTo: settings.publishBatchLimit - retry.count))
            retry = []
            do {
                switch next {
                case .events(let batch): try publish(batch, on: live, retry: &retry)
                case .idle: try ping(live)
                case .stop: break
                }
            } catch {
                connection = nil
                lost = true
                setConnected(false)
                counters.update { $0.connectionsLost += 1 }
                logger.warning("redis publisher lost its connection", metadata: [
                    "redis": "\(url)", "error": "\(error)", "resending": "\(retry.count)"])
            }
            if case .stop = next { break }
        }
        setConnected(false)
        exited.signal()
    }

    /// Sends `batch` in one pipeline and reads every reply. On a broken
    /// connection, puts the durable events without a reply in `retry` and throws.
    private func publish(_ batch: [BusEvent], on connection: RedisConnection, retry: inout [BusEvent]) throws {
        var acknowledged = 0
        var rejected = 0
        let started = DispatchTime.now().uptimeNanoseconds
        let publishedAt = wallMicroseconds()
        do {
            for event in batch {
                var command = RedisCommand("PUBLISH")
                command.argument(BusWire.channel(event.topic, prefix: settings.channelPrefix).utf8)
                command.argument(parts: BusWire.header(of: event, publishedAtMicros: publishedAt), event.frame)
                try connection.append(command)
            }
            for _ in batch {
                let reply = try connection.reply()
                acknowledged += 1
                if case .error(let message) = reply {
                    rejected += 1
                    logger.warning("redis refused a PUBLISH", metadata: ["redis": "\(url)", "error": "\(message)"])
                }
            }
        } catch {
            let unacknowledged = batch[acknowledged...]
            retry = unacknowledged.filter { !$0.ephemeral }
            let droppedEphemeral = unacknowledged.count - retry.count
            counters.update {
                $0.published += acknowledged - rejected
                $0.rejected += rejected
                $0.dropped += droppedEphemeral
            }
            counters.metrics.dropped(droppedEphemeral)
            throw error
        }
        counters.metrics.published(nanoseconds: Int64(DispatchTime.now().uptimeNanoseconds &- started))
        counters.update {
            $0.published += acknowledged - rejected
            $0.rejected += rejected
        }
    }

    private func ping(_ connection: RedisConnection) throws {
        try connection.append(RedisCommand("PING"))
        let reply = try connection.reply()
        guard reply.isPong else { throw RedisBusError.unexpectedReply("PING answered \(reply)") }
    }

    /// The next batch; `.idle` after a ping interval without events; `.stop`
    /// once stopping and nothing is left to send.
    private func take() -> Next {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: settings.pingIntervalSeconds)
        while queue.isEmpty && !stopping {
            if !condition.wait(until: deadline) { return queue.isEmpty ? .idle : .events(popBatch()) }
        }
        return queue.isEmpty ? .stop : .events(popBatch())
    }

    /// Up to `count` queued events, without waiting.
    private func take(upTo count: Int) -> [BusEvent] {
        condition.lock()
        defer { condition.unlock() }
        return queue.pop(max: max(0, count))
    }

    /// Under `condition`.
    private func popBatch() -> [BusEvent] { queue.pop(max: settings.publishBatchLimit) }

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

    private func setConnected(_ value: Bool) {
        condition.lock()
        connected = value
        condition.unlock()
    }
}
