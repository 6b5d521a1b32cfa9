import Foundation
import Logging
import Metrics
import SocialCore
import Synchronization

/// The store's one writer: a thread that owns the read-write connection and
/// commits queued writes in groups.
///
/// Group commit: callers enqueue an op with a completion. The thread takes
/// everything queued (at most `maxBatch`), runs it in one `BEGIN IMMEDIATE`
/// transaction with each op inside its own `SAVEPOINT` (a failing op rolls
/// back alone and gets its own error), commits once (one WAL fsync with
/// `synchronous=FULL`), and only then calls the completions, on the writer
/// thread, in the order the ops were enqueued (failed ones included). A
/// completion called with a value therefore has its change on disk, and
/// completions run in commit order.
///
/// Threads: `enqueue`, `submit`, `close` and `stats` from any thread or task;
/// the connection is used only by the writer thread.
final class SQLiteWriter: Sendable {
    /// A queued write. `run` executes inside the batch transaction (in its
    /// savepoint) and returns the call that completes it once the batch is
    /// committed; `fail` completes it with an error instead.
    struct Op: Sendable {
        let run: @Sendable (SQLiteConnection) throws -> () -> Void
        let fail: @Sendable (any Error) -> Void
    }

    private let queue = WorkQueue<Op>()
    private let maxBatch: Int
    /// How long a batch that is not full waits for more writes before it commits.
    private let commitDelay: Duration
    private let logger: Logger
    private let exited = ThreadExit()
    /// Transactions committed and the successful writes they held.
    private let committed = Mutex((batches: 0, ops: 0))
    /// The same for `/metrics`, with each `COMMIT`'s time (the log's writes
    /// and their `fdatasync`): what every acknowledgement waits for.
    private let commitTimer = Timer(label: "social_store_commit_seconds")
    private let commitsCounter = Counter(label: "social_store_commits_total")
    private let commitWritesCounter = Counter(label: "social_store_commit_writes_total")

    /// Takes ownership of `connection` and starts the writer thread.
    /// - Parameter commitDelay: how long a batch smaller than `maxBatch`
    ///   waits for more writes before it commits (zero: it commits at once).
    init(connection: SQLiteConnection, maxBatch: Int, commitDelay: Duration = .zero, logger: Logger) {
        self.maxBatch = max(1, maxBatch)
        self.commitDelay = commitDelay
        self.logger = logger
        let handoff = ThreadHandoff(connection)
        let thread = Thread { [self] in
            _ = try? "sqlite-writer".prefix(15).write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)  // the name top -H and the stop check see (Linux)
            self.loop(handoff.take())
        }
        thread.name = "sqlite-writer"
        thread.start()
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
    func enqueue<T>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T,
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
        while true {
            var batch = queue.take(max: maxBatch)
            if batch.isEmpty { break }
            if commitDelay > .zero, batch.count < maxBatch {
                // Fewer, larger commits: each costs a WAL write and an fsync
                // (~150 µs of CPU here) whatever it holds.
                Thread.sleep(forTimeInterval: Self.seconds(commitDelay))
                batch += queue.takeQueued(max: maxBatch - batch.count)
            }
            commit(batch, on: db)
        }
        do { try db.execute("PRAGMA wal_checkpoint(TRUNCATE)") } catch {
            logger.warning("sqlite: checkpoint on close failed", metadata: ["error": "\(error)"])
        }
        exited.finish()         // `db` closes when this frame ends, on this thread
    }

    /// One op's place in the batch: how it completes after the COMMIT.
    private enum Outcome {
        /// Succeeded inside the transaction: `complete` once committed, `fail` if the transaction is lost.
        case succeeded(complete: () -> Void, fail: @Sendable (any Error) -> Void)
        case failed(() -> Void)
    }

    /// Runs `batch` in one transaction, each op in its own savepoint, then
    /// completes every op, in batch order, after the commit.
    private func commit(_ batch: [Op], on db: SQLiteConnection) {
        var outcomes: [Outcome] = []
        outcomes.reserveCapacity(batch.count)
        var succeeded = 0
        /// The open transaction is lost: every op that succeeded in it fails.
        func abandon(_ error: StoreError) {
            logger.error("sqlite: write batch rolled back", metadata: ["error": "\(error)"])
            if !db.isAutocommit { try? db.with(.rollback) { try $0.run() } }
            for index in outcomes.indices {
                if case .succeeded(_, let fail) = outcomes[index] { outcomes[index] = .failed { fail(error) } }
            }
            succeeded = 0
        }

        for op in batch {
            do {
                if db.isAutocommit { try db.with(.beginImmediate) { try $0.run() } }
                try db.with(.savepoint) { try $0.run() }
                let complete = try op.run(db)
                try db.with(.release) { try $0.run() }
                outcomes.append(.succeeded(complete: complete, fail: op.fail))
                succeeded += 1
            } catch {
                if db.isAutocommit {
                    // BEGIN failed, or SQLite rolled the whole transaction back (I/O error, disk full...).
                    let message = (error as? StoreError)?.message ?? "\(error)"
                    abandon(.unavailable("sqlite: transaction rolled back: \(message)"))
                } else {
                    do {
                        try db.with(.rollbackToSavepoint) { try $0.run() }
                        try db.with(.release) { try $0.run() }
                    } catch {
                        abandon(Self.storeError(error))
                    }
                }
                outcomes.append(.failed { op.fail(error) })
            }
        }
        if !db.isAutocommit {
            do {
                let started = DispatchTime.now().uptimeNanoseconds
                try db.with(.commit) { try $0.run() }
                commitTimer.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started))
                let ops = succeeded
                committed.withLock { $0.batches += 1; $0.ops += ops }
                commitsCounter.increment()
                commitWritesCounter.increment(by: ops)
            } catch {
                abandon(Self.storeError(error))
            }
        }
        for outcome in outcomes {
            switch outcome {
            case .succeeded(let complete, _): complete()
            case .failed(let fail): fail()
            }
        }
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private static func storeError(_ error: any Error) -> StoreError {
        error as? StoreError ?? .unavailable("sqlite: \(error)")
    }
}
