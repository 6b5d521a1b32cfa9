import Foundation
import Logging
import SocialCore
import Synchronization

/// The store's one writer: a thread that owns the read-write connection and
/// commits queued writes in groups.
///
/// Group commit: callers enqueue an op with a completion. The thread takes
/// everything queued (at most `maxBatch`), runs it in one `BEGIN IMMEDIATE`
/// transaction with each op inside its own `SAVEPOINT` (a failing op rolls
/// back alone and gets its own error), and commits once. The completions
/// run once the log is flushed to disk, on the log-sync thread
/// (`SQLiteLogSync`, one `fdatasync` for every group committed since its
/// last one), in the order the ops were enqueued (failed ones included),
/// while this thread runs the next group. A completion called with a value
/// therefore has its change on disk, and completions run in commit order.
///
/// Threads: `enqueue`, `submit`, `close` and `stats` from any thread or task;
/// the connection is used only by the writer thread.
final class SQLiteWriter: Sendable {
    /// A queued write. `run` executes inside the batch transaction (in its
    /// savepoint) and returns the call that completes it once the batch is
    /// committed; `fail` completes it with an error instead.
    struct Op: Sendable {
        let run: @Sendable (SQLiteConnection) throws -> @Sendable () -> Void
        let fail: @Sendable (any Error) -> Void
    }

    private let queue = WorkQueue<Op>()
    private let maxBatch: Int
    /// How long a batch that is not full waits for more writes before it commits.
    private let commitDelay: Duration
    private let logger: Logger
    private let exited = ThreadExit()
    /// Transactions committed and the successful writes they held (for
    /// `/metrics`, `SQLiteLogSync` counts and times them once flushed).
    private let committed = Mutex((batches: 0, ops: 0))

    /// Flushes the committed groups and runs their completions.
    private let logSync: SQLiteLogSync

    /// Takes ownership of `connection`, which must commit with `synchronous =
    /// NORMAL` (no flush of its own), and starts the writer and log-sync threads.
    /// - Parameter commitDelay: how long a batch smaller than `maxBatch`
    ///   waits for more writes before it commits (zero: it commits at once).
    /// - Parameter syncLog: makes everything the connection wrote to its log
    ///   durable (`WriteAheadLog.sync`).
    init(connection: SQLiteConnection, maxBatch: Int, commitDelay: Duration = .zero,
         syncLog: @escaping @Sendable () throws -> Void, logger: Logger) {
        self.maxBatch = max(1, maxBatch)
        self.commitDelay = commitDelay
        self.logger = logger
        let queue = self.queue
        logSync = SQLiteLogSync(sync: syncLog, logger: logger) { queue.nudge() }
        let handoff = ThreadHandoff(connection)
        Thread.startNamed("sqlite-writer") { [self] in loop(handoff.take()) }
    }

    /// Runs `body` in the next group commit, then calls `completion` with its
    /// result (or its error) once the batch is committed, on the writer thread.
    ///
    /// `body` runs on the writer thread. When it throws, the SQLite changes it
    /// made are rolled back (its savepoint); it must keep no other state. Its
    /// error reaches `completion` unchanged (SQLite failures are already
    /// `StoreError`s; a rule's error passes through). When the batch's
    /// transaction is lost, every op of it fails `unavailable`.
    ///
    /// Order: ops enqueued from one thread run, and complete, in that order.
    /// A closed writer calls `completion` at once, on the caller's thread,
    /// with `unavailable`.
    func enqueue<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T,
                    completion: @escaping @Sendable (Result<T, any Error>) -> Void) {
        let op = Op(
            run: { db in
                let value = try body(db)
                return { completion(.success(value)) }
            },
            fail: { completion(.failure($0)) })
        if !queue.push(op) { completion(.failure(StoreError.unavailable("sqlite: store is closed"))) }
    }

    /// `enqueue`, awaited: `body`'s result once committed.
    func submit<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            enqueue(body) { continuation.resume(with: $0) }
        }
    }

    /// Refuses new writes, commits those queued, checkpoints the WAL, closes
    /// the connection and returns once the thread has exited. Idempotent.
    func close() async {
        stopAccepting()
        await exited.wait()
    }

    /// Refuses new writes; the thread commits those queued, then exits.
    func stopAccepting() { queue.close() }

    /// Writes waiting for the writer thread.
    var queued: Int { queue.count }

    /// Transactions committed and the writes they held (successful writes
    /// only), since start: their ratio is the mean group size.
    var stats: (batches: Int, ops: Int) { committed.withLock { $0 } }

    // MARK: Writer thread

    private func loop(_ db: SQLiteConnection) {
        var group = OpenGroup()
        var handed = 0
        while true {
            // Empty when the log sync reported a flush; nil once closed and drained.
            guard var batch = queue.takeOrNudged(max: maxBatch - group.count) else { break }
            if commitDelay > .zero, !batch.isEmpty, group.count + batch.count < maxBatch {
                // Fewer, larger commits: each costs a WAL write and a flush
                // (~150 µs of CPU here) whatever it holds.
                Thread.sleep(forTimeInterval: Self.seconds(commitDelay))
                batch += queue.takeQueued(max: maxBatch - group.count - batch.count)
            }
            for op in batch { run(op, into: &group, on: db) }
            // Commit once the disk is free for it: while the last group is
            // being flushed, this one grows (up to `maxBatch`), as it would
            // have queued behind a COMMIT that waited for the disk itself.
            guard group.count > 0 else { continue }
            if group.count < maxBatch, logSync.waitForFlush(handed: handed) { continue }
            let committed = commit(&group, on: db)
            if queue.count == 0, logSync.completed == handed {
                logSync.settleHere(committed)       // nothing to run during the flush
            } else {
                logSync.hand(committed)
                handed += 1
            }
            db.checkpointer?.restartIfDue(db)      // a long log is copied here, so that it starts over
        }
        if group.count > 0 { logSync.hand(commit(&group, on: db)) }
        logSync.finish()
        do { try db.execute("PRAGMA wal_checkpoint(TRUNCATE)") } catch {
            logger.warning("sqlite: checkpoint on close failed", metadata: ["error": "\(error)"])
        }
        exited.finish()         // `db` closes when this frame ends, on this thread
    }

    /// One op's place in the group: how it completes once the COMMIT is on disk.
    enum Outcome: Sendable {
        /// Succeeded inside the transaction: `complete` once durable, `fail`
        /// if the transaction is lost or the log cannot be flushed.
        case succeeded(complete: @Sendable () -> Void, fail: @Sendable (any Error) -> Void)
        case failed(@Sendable () -> Void)
    }

    /// The ops run in the open transaction (or failed) since the last COMMIT.
    private struct OpenGroup {
        var outcomes: [Outcome] = []
        /// Ops whose change is in the open transaction.
        var succeeded = 0
        var count: Int { outcomes.count }
    }

    /// Runs `op` in the open transaction (begun if none is), inside a
    /// savepoint of its own: a failing op rolls back alone.
    private func run(_ op: Op, into group: inout OpenGroup, on db: SQLiteConnection) {
        do {
            if db.isAutocommit { try db.with(.beginImmediate) { try $0.run() } }
            try db.with(.savepoint) { try $0.run() }
            let complete = try op.run(db)
            try db.with(.release) { try $0.run() }
            group.outcomes.append(.succeeded(complete: complete, fail: op.fail))
            group.succeeded += 1
        } catch {
            if db.isAutocommit {
                // BEGIN failed, or SQLite rolled the whole transaction back (I/O error, disk full...).
                let message = (error as? StoreError)?.message ?? "\(error)"
                abandon(&group, .unavailable("sqlite: transaction rolled back: \(message)"), on: db)
            } else {
                do {
                    try db.with(.rollbackToSavepoint) { try $0.run() }
                    try db.with(.release) { try $0.run() }
                } catch {
                    abandon(&group, Self.storeError(error), on: db)
                }
            }
            group.outcomes.append(.failed { op.fail(error) })
        }
    }

    /// The open transaction is lost: every op that succeeded in it fails.
    private func abandon(_ group: inout OpenGroup, _ error: StoreError, on db: SQLiteConnection) {
        logger.error("sqlite: write batch rolled back", metadata: ["error": "\(error)"])
        if !db.isAutocommit { try? db.with(.rollback) { try $0.run() } }
        for index in group.outcomes.indices {
            if case .succeeded(_, let fail) = group.outcomes[index] { group.outcomes[index] = .failed { fail(error) } }
        }
        group.succeeded = 0
    }

    /// Commits the open transaction, if any, and returns the group for the
    /// log sync: how each of its ops completes, in order. Starts a new group.
    private func commit(_ group: inout OpenGroup, on db: SQLiteConnection) -> SQLiteLogSync.Group {
        let started = DispatchTime.now().uptimeNanoseconds
        if !db.isAutocommit {
            do {
                try db.with(.commit) { try $0.run() }
                let ops = group.succeeded
                committed.withLock { $0.batches += 1; $0.ops += ops }
            } catch {
                abandon(&group, Self.storeError(error), on: db)
            }
        }
        defer { group = OpenGroup() }
        return SQLiteLogSync.Group(outcomes: group.outcomes, writes: group.succeeded, commitStartedNs: started)
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private static func storeError(_ error: any Error) -> StoreError {
        error as? StoreError ?? .unavailable("sqlite: \(error)")
    }
}
