import Foundation
import Logging
import SocialCore

/// The bus's publisher for one shard: a thread with its own blocking
/// connection that sends queued events as pipelined `PUBLISH` commands
/// (append a batch, then read its replies: one round trip per batch).
///
/// While Redis is down, events wait in the bounded `PublishQueue`; the thread
/// reconnects with capped backoff (`RedisWorker`). When a connection breaks
/// mid-batch, the durable events Redis did not acknowledge are sent again
/// first after the reconnect (a duplicate is harmless: clients ignore changes
/// at or below their position); ephemeral ones are dropped. When idle, the
/// thread sends `PING` every ping interval, so a dead connection is noticed
/// (and `isConnected` turns false) before the next event needs it.
///
/// No silent holes: a durable event that never reaches Redis (dropped from
/// the full queue, or refused with an error reply) is recorded in a
/// `BusLoss`, which the next round trip announces on the control channel
/// (`BusControl`) ahead of the events that follow, so every node resyncs the
/// sessions of those topics before it delivers anything after the hole.
///
/// Threads: `enqueue`, `isConnected` and `stop` from any thread; the methods
/// under "Publisher thread" only on the worker's thread, which alone touches
/// the connection. `@unchecked Sendable`: `queue`, `loss` and `connected` are
/// only touched under `worker.condition`; `retry` and `lostConnection` only
/// by the worker's thread.
final class RedisPublisher: RedisWorkerBody, @unchecked Sendable {
    private let url: RedisURL
    private let settings: RedisBusSettings
    private let counters: BusCounters
    private let worker: RedisWorker
    private var queue: PublishQueue
    private var loss = BusLoss()
    private var connected = false
    /// Durable events of a batch whose connection broke before Redis acknowledged them.
    private var retry: [BusEvent] = []
    /// A connection was lost: the next one counts as a reconnect.
    private var lostConnection = false

    init(url: RedisURL, settings: RedisBusSettings, logger: Logger, counters: BusCounters) {
        self.url = url
        self.settings = settings
        self.counters = counters
        self.queue = PublishQueue(limit: settings.publishQueueLimit)
        worker = RedisWorker(name: "redis publisher", url: url, logger: logger,
                             reconnect: (settings.reconnectInitialSeconds, settings.reconnectMaxSeconds))
        worker.start(self)
    }

    /// Queues `events` in order and returns at once. Any thread.
    func enqueue(_ events: [BusEvent]) {
        var dropped = 0
        worker.condition.lock()
        if !worker.isStoppingLocked {
            for event in events {
                guard let lost = queue.push(event) else { continue }
                dropped += 1
                if !lost.ephemeral { loss.add(lost.topic) }
            }
            worker.condition.signal()
        }
        worker.condition.unlock()
        if dropped > 0 {
            counters.update { $0.dropped += dropped }
            counters.metrics.dropped(dropped)
        }
    }

    /// Whether the publisher's connection is up. Any thread.
    var isConnected: Bool {
        worker.condition.lock()
        defer { worker.condition.unlock() }
        return connected
    }

    /// Asks the thread to send what is queued (if connected) and exit. Any thread.
    func stop() { worker.stop() }

    /// Blocks until the thread has exited (after `stop`). Any thread but the publisher's.
    func waitUntilExited() { worker.waitUntilExited() }

    // MARK: Publisher thread

    private enum Next {
        /// Events to publish, after announcing `loss` when it is not empty.
        case publish([BusEvent], loss: BusLoss)
        case idle
        case stop
    }

    func open() throws -> RedisConnection {
        try RedisConnection.connect(to: url, connectTimeout: settings.connectTimeoutSeconds,
                                    ioTimeout: settings.deadTimeoutSeconds)
    }

    func serve(_ connection: RedisConnection) throws {
        setConnected(true)
        if lostConnection { counters.metrics.reconnected(.publisher) }
        lostConnection = false
        while true {
            let next = take()
            switch next {
            case .publish(let batch, let lost): try publish(batch, announcing: lost, on: connection)
            case .idle: try ping(connection)
            case .stop: return
            }
        }
    }

    func lost(_ error: any Error) {
        lostConnection = true
        setConnected(false)
        counters.update { $0.connectionsLost += 1 }
    }

    func finished() { setConnected(false) }

    /// Sends the loss announcement (if any) and `batch` in one pipeline and
    /// reads every reply. On a broken connection, keeps the durable events
    /// without a reply in `retry`, puts an unacknowledged announcement back,
    /// and throws.
    private func publish(_ batch: [BusEvent], announcing lost: BusLoss, on connection: RedisConnection) throws {
        var acknowledged = 0
        var rejected: [BusEvent] = []
        var announced = lost.isEmpty
        let started = DispatchTime.now().uptimeNanoseconds
        let publishedAt = wallMicroseconds()
        do {
            if !lost.isEmpty {
                var command = RedisCommand("PUBLISH")
                command.argument(BusControl.channel(prefix: settings.channelPrefix).utf8)
                command.argument(BusControl.encode(lost))
                try connection.append(command)
            }
            for event in batch {
                var command = RedisCommand("PUBLISH")
                command.argument(BusWire.channel(event.topic, prefix: settings.channelPrefix).utf8)
                command.argument(parts: BusWire.header(of: event, publishedAtMicros: publishedAt), event.frame)
                try connection.append(command)
            }
            if !lost.isEmpty {
                let reply = try connection.reply()
                if case .error(let message) = reply {
                    worker.logger.warning("redis refused a loss announcement",
                                          metadata: ["redis": "\(url)", "error": "\(message)"])
                } else {
                    announced = true
                    counters.update { $0.lossesAnnounced += 1 }
                }
            }
            for event in batch {
                let reply = try connection.reply()
                acknowledged += 1
                if case .error(let message) = reply {
                    rejected.append(event)
                    worker.logger.warning("redis refused a PUBLISH", metadata: ["redis": "\(url)", "error": "\(message)"])
                }
            }
        } catch {
            let unacknowledged = batch[acknowledged...]
            retry = unacknowledged.filter { !$0.ephemeral }
            let droppedEphemeral = unacknowledged.count - retry.count
            record(lost: announced ? BusLoss() : lost, rejected: rejected)
            counters.update {
                $0.published += acknowledged - rejected.count
                $0.rejected += rejected.count
                $0.dropped += droppedEphemeral
            }
            counters.metrics.dropped(droppedEphemeral)
            throw error
        }
        record(lost: announced ? BusLoss() : lost, rejected: rejected)
        counters.metrics.published(nanoseconds: Int64(DispatchTime.now().uptimeNanoseconds &- started))
        counters.update {
            $0.published += acknowledged - rejected.count
            $0.rejected += rejected.count
        }
    }

    /// Puts what must still be announced back: an announcement that did not
    /// go through, and the durable events Redis refused.
    private func record(lost: BusLoss, rejected: [BusEvent]) {
        guard !lost.isEmpty || rejected.contains(where: { !$0.ephemeral }) else { return }
        worker.condition.lock()
        loss.merge(lost)
        for event in rejected where !event.ephemeral { loss.add(event.topic) }
        worker.condition.unlock()
    }

    private func ping(_ connection: RedisConnection) throws {
        try connection.append(RedisCommand("PING"))
        let reply = try connection.reply()
        guard reply.isPong else { throw RedisBusError.unexpectedReply("PING answered \(reply)") }
    }

    /// The next batch (the events to send again first), with the loss to
    /// announce before it; `.idle` after a ping interval without either;
    /// `.stop` once stopping and nothing is left to send.
    private func take() -> Next {
        worker.condition.lock()
        defer { worker.condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: settings.pingIntervalSeconds)
        while retry.isEmpty && queue.isEmpty && loss.isEmpty && !worker.isStoppingLocked {
            if !worker.condition.wait(until: deadline) { break }
        }
        if retry.isEmpty && queue.isEmpty && loss.isEmpty {
            return worker.isStoppingLocked ? .stop : .idle
        }
        let batch = retry + queue.pop(max: max(0, settings.publishBatchLimit - retry.count))
        retry = []
        let lost = loss
        loss = BusLoss()
        return .publish(batch, loss: lost)
    }

    private func setConnected(_ value: Bool) {
        worker.condition.lock()
        connected = value
        worker.condition.unlock()
        counters.connection(.publisher, isUp: value)
    }
}
