import Foundation
import Logging

/// Reads notifications that backends add to a Redis stream (`XADD <stream> *
/// notification <json>`, the JSON of `POST /api/v1/notifications`) through a
/// consumer group: at least once, with `XACK` only after `handle` stored the
/// entry (its idempotency key makes a redelivery create nothing new).
///
/// On start, and after any failure, the consumer first re-reads the entries
/// delivered to it but never acknowledged (`XREADGROUP ... 0`: a crash or a
/// store outage), then blocks for new ones (`>`). The group is created at
/// `0` on first use, so entries added before any gateway ran are read too.
/// A consumer name must be stable across restarts of a node (its pending
/// entries are its own); entries pending on a node that never comes back stay
/// pending (no `XAUTOCLAIM` yet).
///
/// Threads: one thread of its own runs the blocking hiredis connection and
/// waits for `handle` (which runs on Swift's pool); `stop` may be called from
/// any thread. Mutable state is behind `lock`, which is why the
/// `@unchecked Sendable` is sound.
public final class NotificationStreamConsumer: @unchecked Sendable {
    /// What `handle` decided for one entry.
    public enum Outcome: Sendable {
        /// Stored (or already there): acknowledge.
        case stored
        /// Never storable: acknowledge, and log why.
        case rejected(String)
        /// Not now (the store failed): leave it pending; it is read again.
        case retry(String)
    }

    public struct Settings: Sendable {
        public var stream = "social:notifications"
        public var group = "social-gateway"
        public var consumer: String
        /// Entries read per call.
        public var batch = 100
        /// Milliseconds an `XREADGROUP` waits for new entries.
        public var blockMs = 1000
        /// Milliseconds to wait after a failure before reconnecting or retrying.
        public var retryMs = 500

        public init(consumer: String) { self.consumer = consumer }
    }

    private let url: RedisURL
    private let settings: Settings
    private let handle: @Sendable ([UInt8]) async -> Outcome
    private let logger: Logger
    private let lock = NSLock()
    private var stopping = false
    private var thread: Thread?
    private let stopped = DispatchSemaphore(value: 0)

    /// - Parameters:
    ///   - url: the Redis of `--bus`.
    ///   - settings: stream, group and this node's consumer name.
    ///   - handle: stores one entry's notification; called one entry at a time, in stream order.
    public init(url: String, settings: Settings, logger: Logger,
                handle: @escaping @Sendable ([UInt8]) async -> Outcome) throws {
        self.url = try RedisURL(parsing: url)
        self.settings = settings
        self.handle = handle
        self.logger = logger
    }

    /// Starts the consumer thread. Once.
    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "notify-stream"
        lock.withLock { self.thread = thread }
        thread.start()
    }

    /// Stops after the entry in hand (at most `blockMs` later) and waits for the thread.
    public func stop() {
        let started = lock.withLock { () -> Bool in
            stopping = true
            return thread != nil
        }
        if started { stopped.wait() }
    }

    private var isStopping: Bool { lock.withLock { stopping } }

    /// The consumer thread: connect, create the group, read pending then new entries; on failure, wait and redo.
    private func run() {
        defer { stopped.signal() }
        while !isStopping {
            do {
                let connection = try RedisConnection.connect(to: url, connectTimeout: 2,
                                                             ioTimeout: Double(settings.blockMs) / 1000 + 5)
                try createGroup(connection)
                try consume(connection)
            } catch {
                logger.warning("notification stream: \(error); retrying", metadata: ["stream": "\(settings.stream)"])
                Thread.sleep(forTimeInterval: Double(settings.retryMs) / 1000)
            }
        }
    }

    private func command(_ connection: RedisConnection, _ parts: [String]) throws -> RedisReply {
        var command = RedisCommand(parts[0])
        for part in parts.dropFirst() { command.argument(Array(part.utf8)) }
        try connection.append(command)
        try connection.flush()
        return try connection.reply()
    }

    private func createGroup(_ connection: RedisConnection) throws {
        let reply = try command(connection, ["XGROUP", "CREATE", settings.stream, settings.group, "0", "MKSTREAM"])
        if case .error(let text) = reply, !text.hasPrefix("BUSYGROUP") {
            throw RedisBusError.unexpectedReply("XGROUP CREATE: \(text)")
        }
    }

    /// Reads pending entries (`0`) until none are left, then new ones (`>`); returns only by throwing or stopping.
    private func consume(_ connection: RedisConnection) throws {
        var pendingFirst = true
        while !isStopping {
            var parts = ["XREADGROUP", "GROUP", settings.group, settings.consumer, "COUNT", String(settings.batch)]
            if !pendingFirst { parts += ["BLOCK", String(settings.blockMs)] }
            parts += ["STREAMS", settings.stream, pendingFirst ? "0" : ">"]
            let entries = try Self.entries(try command(connection, parts))
            if pendingFirst && entries.isEmpty { pendingFirst = false }
            entryLoop: for (id, body) in entries {
                if isStopping { return }
                guard let body else {
                    logger.warning("notification stream: entry without a notification field, acknowledged", metadata: ["id": "\(id)"])
                    _ = try command(connection, ["XACK", settings.stream, settings.group, id])
                    continue
                }
                switch wait(for: body) {
                case .stored:
                    _ = try command(connection, ["XACK", settings.stream, settings.group, id])
                case .rejected(let reason):
                    logger.warning("notification stream: entry rejected, acknowledged", metadata: ["id": "\(id)", "reason": "\(reason)"])
                    _ = try command(connection, ["XACK", settings.stream, settings.group, id])
                case .retry(let reason):
                    // Left pending: re-read from `0` after a pause, in order.
                    logger.warning("notification stream: entry not stored, will retry", metadata: ["id": "\(id)", "reason": "\(reason)"])
                    Thread.sleep(forTimeInterval: Double(settings.retryMs) / 1000)
                    pendingFirst = true
                    break entryLoop
                }
            }
        }
    }

    /// Runs `handle` on Swift's pool and blocks this (own) thread until it answers.
    private func wait(for body: [UInt8]) -> Outcome {
        let done = DispatchSemaphore(value: 0)
        let result = OutcomeBox()
        let handle = self.handle
        Task {
            result.value = await handle(body)
            done.signal()
        }
        done.wait()
        return result.value ?? .retry("no outcome")
    }

    /// `XREADGROUP`'s reply as `(id, notification field)` pairs; a nil reply (timeout) is none.
    static func entries(_ reply: RedisReply) throws -> [(String, [UInt8]?)] {
        switch reply {
        case .null: return []
        case .error(let text): throw RedisBusError.unexpectedReply("XREADGROUP: \(text)")
        case .array(let streams):
            var out: [(String, [UInt8]?)] = []
            for stream in streams {
                guard case .array(let pair) = stream, pair.count == 2, case .array(let items) = pair[1] else { continue }
                for item in items {
                    guard case .array(let entry) = item, entry.count == 2, let id = entry[0].text else { continue }
                    var body: [UInt8]?
                    if case .array(let fields) = entry[1] {
                        var i = 0
                        while i + 1 < fields.count {
                            if fields[i].text == "notification", case .bulk(let bytes) = fields[i + 1] { body = bytes }
                            i += 2
                        }
                    }
                    out.append((id, body))
                }
            }
            return out
        default:
            throw RedisBusError.unexpectedReply("XREADGROUP: \(reply)")
        }
    }
}

/// One outcome handed from a task to the waiting consumer thread; the
/// semaphore orders the write before the read, which is why the
/// `@unchecked Sendable` is sound.
private final class OutcomeBox: @unchecked Sendable {
    var value: NotificationStreamConsumer.Outcome?
}
