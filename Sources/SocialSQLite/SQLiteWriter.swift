import Foundation
import Logging
import SocialCore

/// The store's one writer: a thread that owns the read-write connection and
/// commits queued writes in groups.
///
/// Group commit: callers enqueue an op and suspend. The thread takes
/// everything queued (at most `maxBatch`), runs it in one `BEGIN IMMEDIATE`
/// transaction with each op inside its own `SAVEPOINT` (a failing op rolls
/// back alone and gets its own error), commits once (one WAL fsync with
/// `synchronous=FULL`), and only then resumes every caller. A caller that is
/// resumed with a result therefore has its change on disk.
///
/// Threads: `submit`, `close` and `stats` from any thread or task;
/// `connection` is used only by the writer thread once started.
/// `@unchecked Sendable` because the connection never leaves that thread, the
/// queue is itself thread-safe and the counters are only touched under `statsLock`.
final class SQLiteWriter: @unchecked Sendable {
    /// A queued write. `run` executes inside the batch transaction and returns
    /// how to resume its caller once the batch is committed; `fail` resumes it
    /// with an error instead.
    struct Op {
        let run: (SQLiteConnection) throws -> () -> Void
        let fail: (StoreError) -> Void
    }

    private let queue = WorkQueue<Op>()
    private var connection: SQLiteConnection?
    private let maxBatch: Int
    private let logger: Logger
    private let exited = Completion()
    private let statsLock = NSLock()
    private var committedBatches = 0
    private var committedOps = 0

    /// Takes ownership of `connection` and starts the writer thread.
    init(connection: SQLiteConnection, maxBatch: Int, logger: Logger) {
        self.connection = connection
        self.maxBatch = max(1, maxBatch)
        self.logger = logger
        let thread = Thread { [self] in self.loop() }
        thread.name = "sqlite-writer"
        thread.start()
    }

    /// Runs `body` in the next group commit and returns its result once committed.
    /// `body` runs on the writer thread. When it throws, the SQLite changes it
    /// made are rolled back (its savepoint); it must keep no other state.
    func submit<T>(_ body: @escaping (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            let op = Op(
                run: { db in
                    let value = try body(db)
                    return { continuation.resume(returning: value) }
                },
                fail: { continuation.resume(throwing: $0) })
            if !queue.push(op) { continuation.resume(throwing: StoreError.unavailable("sqlite: store is closed")) }
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
    var stats: (batches: Int, ops: Int) {
        statsLock.lock()
        defer { statsLock.unlock() }
        return (committedBatches, committedOps)
    }

    // MARK: Writer thread

    private func loop() {
        while true {
            let batch = queue.take(max: maxBatch)
            if batch.isEmpty { break }
            if let db = connection { commit(batch, on: db) }
        }
        if let db = connection {
            do { try db.execute("PRAGMA wal_checkpoint(TRUNCATE)") } catch {
                logger.warning("sqlite: checkpoint on close failed", metadata: ["error": "\(error)"])
            }
        }
        connection = nil
        exited.finish()
    }

    /// Runs `batch` in one transaction, each op in its own savepoint, then
    /// resumes every caller after the commit.
    private func commit(_ batch: [Op], on db: SQLiteConnection) {
        var succeeded: [(resume: () -> Void, fail: (StoreError) -> Void)] = []   // waiting for COMMIT
        var failed: [() -> Void] = []
        /// The open transaction is lost: every op that succeeded in it fails.
        func abandon(_ error: StoreError) {
            logger.error("sqlite: write batch rolled back", metadata: ["error": "\(error)"])
            if !db.isAutocommit { try? db.execute("ROLLBACK") }
            for op in succeeded { failed.append { op.fail(error) } }
            succeeded = []
        }

        for op in batch {
            do {
                if db.isAutocommit { try db.with("BEGIN IMMEDIATE") { try $0.run() } }
                try db.with("SAVEPOINT op") { try $0.run() }
                let resume = try op.run(db)
                try db.with("RELEASE op") { try $0.run() }
                succeeded.append((resume, op.fail))
            } catch {
                let failure = Self.storeError(error)
                if db.isAutocommit {
                    // BEGIN failed, or SQLite rolled the whole transaction back (I/O error, disk full...).
                    abandon(.unavailable("sqlite: transaction rolled back: \(failure.message)"))
                } else {
                    do {
                        try db.with("ROLLBACK TO op") { try $0.run() }
                        try db.with("RELEASE op") { try $0.run() }
                    } catch {
                        abandon(Self.storeError(error))
                    }
                }
                failed.append { op.fail(failure) }
            }
        }
        if !db.isAutocommit {
            do {
                try db.with("COMMIT") { try $0.run() }
                statsLock.lock()
                committedBatches += 1
                committedOps += succeeded.count
                statsLock.unlock()
            } catch {
                abandon(Self.storeError(error))
            }
        }
        for op in succeeded { op.resume() }
        for fail in failed { fail() }
    }

    private static func storeError(_ error: Error) -> StoreError {
        error as? StoreError ?? .unavailable("sqlite: \(error)")
    }
}
