import Foundation
import Logging

/// Reads a Redis stream through a consumer group and hands each entry to the
/// application, acknowledging it (`XACK`) only after the application stored
/// it: at-least-once. Backends add entries without waiting for the gateway;
/// every node of a deployment reads through the same group, so each entry
/// goes to one node, and a node that dies leaves its unacknowledged entries
/// to be claimed by another after `claimIdleMs`.
///
/// The order of work on each connection:
/// 1. create the group if missing (`XGROUP CREATE ... 0 MKSTREAM`: a new
///    group starts at the beginning of the stream, so nothing added before
///    the first node started is skipped);
/// 2. take back this consumer's own pending entries (read, not acknowledged:
///    the node stopped or crashed before storing them) and run them again;
/// 3. claim other consumers' entries idle longer than `claimIdleMs`;
/// 4. read new entries (`>`), blocking up to `blockMs`, claiming again every
///    `claimIdleMs`.
/// Entries run one at a time, in stream order. A `retryLater` verdict leaves
/// its entry (and the rest of that read) pending; after a backoff the thread starts again from step 2, so
/// the entry is run again before anything newer from the pending list.
///
/// With a sharded bus, each shard holds one partition of the stream (the
/// stream of the same name on that Redis) and the gateway runs one ingest
/// per shard.
///
/// Threads: `init` starts the ingest's own thread (`RedisWorker`), which
/// alone owns the blocking hiredis connection and waits for the handler
/// (which runs in a Swift task) on a semaphore: the cooperative pool is
/// never blocked. `stop`, `waitUntilExited` and `stats` from any thread or
/// task. `@unchecked Sendable`: `counts` is only touched under
/// `worker.condition`; `failed` and `retryBackoff` only by the worker's thread.
public final class RedisStreamIngest: RedisWorkerBody, @unchecked Sendable {
    /// What the ingest did so far, for tests and logs.
    public struct Stats: Sendable, Equatable {
        public var stored = 0
        public var rejected = 0
        public var retried = 0
        public var reconnects = 0
    }

    public typealias Handler = @Sendable (StreamEntry) async -> IngestVerdict

    private let url: RedisURL
    private let settings: StreamIngestSettings
    private let handler: Handler
    private let logger: Logger
    private let worker: RedisWorker
    private var counts = Stats()
    /// A connection failed: the next one counts as a reconnect.
    private var failed = false
    /// The wait before running again an entry the handler could not store yet.
    private var retryBackoff: Backoff

    /// Starts reading at once.
    /// - Parameters:
    ///   - url: the Redis server.
    ///   - settings: stream, group, consumer name and timings.
    ///   - logger: connection failures and refused entries are logged here.
    ///   - handler: stores one entry; called for one entry at a time, in stream order.
    public init(url: RedisURL, settings: StreamIngestSettings, logger: Logger, handler: @escaping Handler) {
        self.url = url
        self.settings = settings.clamped
        self.handler = handler
        var logger = logger
        logger[metadataKey: "stream"] = "\(self.settings.stream)"
        logger[metadataKey: "consumer"] = "\(self.settings.consumer)"
        self.logger = logger
        retryBackoff = Backoff(initialSeconds: self.settings.retryInitialSeconds, maxSeconds: self.settings.retryMaxSeconds)
        worker = RedisWorker(name: "redis stream ingest", url: url, logger: logger,
                             reconnect: (self.settings.retryInitialSeconds, self.settings.retryMaxSeconds))
        worker.start(self)
    }

    public var stats: Stats {
        worker.condition.lock()
        defer { worker.condition.unlock() }
        return counts
    }

    /// Asks the thread to exit after the read in progress (at most `blockMs`
    /// plus the handler calls under way). Unacknowledged entries stay pending
    /// for the next start. Any thread.
    public func stop() { worker.stop() }

    /// Returns once the thread has exited (after `stop`). It suspends
    /// rather than blocks: the thread may be waiting for a handler task that
    /// needs a cooperative thread to finish.
    public func waitUntilExited() async { await worker.exited() }

    // MARK: Ingest thread (RedisWorkerBody)

    func open() throws -> RedisConnection {
        // A blocking read waits up to blockMs for Redis to answer: give the socket more.
        let ioTimeout = Double(settings.blockMs) / 1000 + max(2, settings.connectTimeoutSeconds)
        let connection = try RedisConnection.connect(to: url, connectTimeout: settings.connectTimeoutSeconds, ioTimeout: ioTimeout)
        if url.database != 0 {
            let reply = try call(connection, RedisCommand("SELECT", String(url.database)))
            guard reply == .status("OK") else { throw RedisBusError.unexpectedReply("SELECT answered \(reply)") }
        }
        var create = RedisCommand("XGROUP")
        for part in ["CREATE", settings.stream, settings.group, "0", "MKSTREAM"] { create.argument(part.utf8) }
        switch try call(connection, create) {
        case .status: break
        case .error(let text) where text.hasPrefix("BUSYGROUP"): break
        case let other: throw RedisBusError.unexpectedReply("XGROUP CREATE answered \(other)")
        }
        return connection
    }

    func serve(_ connection: RedisConnection) throws {
        if failed { count { $0.reconnects += 1 } }
        failed = false
        retryBackoff.reset()
        try consume(connection)
    }

    func connectFailed(_ error: any Error, failures: Int) { failed = true }

    func lost(_ error: any Error) { failed = true }

    /// Steps 2-4 until stopped (returns) or the connection breaks (throws).
    private func consume(_ connection: RedisConnection) throws {
        var lastClaim = DispatchTime(uptimeNanoseconds: 0)
        var catchingUp = true
        while !isStopping {
            if catchingUp {
                let own = try StreamReplies.entries(ofRead: call(connection, read(from: "0")))
                if own.isEmpty {
                    catchingUp = false
                } else {
                    if try !process(own, connection) {
                        if worker.sleep(seconds: retryBackoff.delay()) { return }
                    } else {
                        retryBackoff.reset()
                    }
                    continue
                }
            }
            let now = DispatchTime.now()
            if now.uptimeNanoseconds >= lastClaim.uptimeNanoseconds + UInt64(settings.claimIdleMs) * 1_000_000 {
                lastClaim = now
                if try !claimStale(connection) {
                    catchingUp = true
                    if worker.sleep(seconds: retryBackoff.delay()) { return }
                    continue
                }
            }
            let fresh = try StreamReplies.entries(ofRead: call(connection, read(from: ">", block: true)))
            if try !process(fresh, connection) {
                catchingUp = true
                if worker.sleep(seconds: retryBackoff.delay()) { return }
            }
        }
    }

    /// Claims entries other consumers left idle, in pages, and runs them.
    /// Returns false when one of them must be retried later.
    private func claimStale(_ connection: RedisConnection) throws -> Bool {
        var cursor = "0-0"
        repeat {
            var claim = RedisCommand("XAUTOCLAIM")
            for part in [settings.stream, settings.group, settings.consumer, String(settings.claimIdleMs), cursor,
                         "COUNT", String(settings.batch)] { claim.argument(part.utf8) }
            let (next, entries) = try StreamReplies.claimed(call(connection, claim))
            if !entries.isEmpty {
                logger.info("redis stream ingest claimed idle entries", metadata: ["count": "\(entries.count)"])
                if try !process(entries, connection) { return false }
            }
            cursor = next
        } while cursor != "0-0" && !isStopping
        return true
    }

    private func read(from id: String, block: Bool = false) -> RedisCommand {
        var command = RedisCommand("XREADGROUP")
        var parts = ["GROUP", settings.group, settings.consumer, "COUNT", String(settings.batch)]
        if block { parts += ["BLOCK", String(settings.blockMs)] }
        parts += ["STREAMS", settings.stream, id]
        for part in parts { command.argument(part.utf8) }
        return command
    }

    /// Runs `entries` through the handler, copies the refused ones to the
    /// rejected stream and acknowledges what was stored or refused. Returns
    /// false when at least one entry must be retried later.
    private func process(_ entries: [StreamEntry], _ connection: RedisConnection) throws -> Bool {
        guard !entries.isEmpty else { return true }
        let verdicts = runHandler(entries)
        var done: [String] = []
        var allSettled = true
        for (entry, verdict) in zip(entries, verdicts) {
            switch verdict {
            case .stored:
                done.append(entry.id)
                count { $0.stored += 1 }
            case .rejected(let reason):
                logger.warning("redis stream ingest refused an entry", metadata: ["id": "\(entry.id)", "reason": "\(reason)"])
                var copy = RedisCommand("XADD")
                copy.argument(settings.rejectedStream.utf8)
                copy.argument("*".utf8)
                copy.argument("id".utf8)
                copy.argument(entry.id.utf8)
                copy.argument("reason".utf8)
                copy.argument(reason.utf8)
                for (name, value) in entry.fields.sorted(by: { $0.key < $1.key }) {
                    copy.argument(name.utf8)
                    copy.argument(value)
                }
                _ = try call(connection, copy)
                done.append(entry.id)
                count { $0.rejected += 1 }
            case .retryLater(let reason):
                if allSettled {
                    logger.warning("redis stream ingest will retry", metadata: ["id": "\(entry.id)", "reason": "\(reason)"])
                }
                allSettled = false
                count { $0.retried += 1 }
            }
        }
        if !done.isEmpty {
            var ack = RedisCommand("XACK")
            ack.argument(settings.stream.utf8)
            ack.argument(settings.group.utf8)
            for id in done { ack.argument(id.utf8) }
            let reply = try call(connection, ack)
            guard case .integer = reply else { throw RedisBusError.unexpectedReply("XACK answered \(reply)") }
        }
        return allSettled
    }

    /// Calls the handler for each entry, one at a time in stream order (so
    /// a user's inbox keeps the order backends added them in), and waits for
    /// the verdicts. After a `retryLater` the rest of the read is left for
    /// the retry too, so nothing overtakes an entry that must wait.
    private func runHandler(_ entries: [StreamEntry]) -> [IngestVerdict] {
        let done = DispatchSemaphore(value: 0)
        let box = Slots<IngestVerdict>(count: entries.count, initial: .retryLater("no verdict"))
        let handler = self.handler
        Task {
            for (index, entry) in entries.enumerated() {
                let verdict = await handler(entry)
                box.set(index, verdict)
                if case .retryLater = verdict { break }
            }
            done.signal()
        }
        done.wait()
        return box.values
    }

    private func call(_ connection: RedisConnection, _ command: RedisCommand) throws -> RedisReply {
        try connection.append(command)
        return try connection.reply()
    }

    private func count(_ change: (inout Stats) -> Void) {
        worker.condition.lock()
        change(&counts)
        worker.condition.unlock()
    }

    private var isStopping: Bool { worker.isStopping }
}
