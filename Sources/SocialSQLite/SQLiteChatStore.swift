import Foundation
import Logging
import SocialCore

/// The embedded default `ChatStore`: one SQLite database file,
/// `<directory>/social.sqlite3`, in WAL mode; a write is acknowledged only
/// once the log holding it is flushed to disk (`fdatasync`), so every
/// acknowledged write survives SIGKILL and power loss.
///
/// The store owns its threads; no SQLite call runs on Swift's cooperative pool
/// or on a caller's thread once `init` has returned:
/// - one writer thread (`SQLiteWriter`) commits writes in groups: one
///   transaction per group, each write in its own savepoint;
/// - one log-sync thread (`SQLiteLogSync`) flushes the log, once for every
///   group committed since its last flush, then completes their writes,
///   while the writer runs the next group;
/// - one checkpointer thread (`SQLiteCheckpointer`) copies the WAL into the
///   database file, so commits do not wait for that (but for the writer's
///   own copy of the rest, once per `restartFrames`, so the log starts over);
/// - `readers` reader threads (`SQLiteReaders`) with their own connections.
///
/// Threads: every method may be called from any thread or task, concurrently.
/// `init` blocks its caller while it opens and migrates the database
/// (start-up only).
public final class SQLiteChatStore: ChatStore {
    /// The database file.
    public let path: String
    let writer: SQLiteWriter
    let readers: SQLiteReaders
    let checkpointer: SQLiteCheckpointer

    /// Opens (creating when missing) `<directory>/social.sqlite3` and migrates it to the current schema.
    /// - Parameters:
    ///   - directory: where the database lives; created when missing.
    ///   - readers: how many reader threads (and connections) to run.
    ///   - maxBatch: the most writes committed in one transaction.
    ///   - commitDelay: how long the writer lets a batch that is not full wait
    ///     for more writes before it commits. Zero (the default) commits at
    ///     once; a millisecond trades that much latency for fewer commits
    ///     (each costs a WAL write and an fsync whatever it holds) under a
    ///     steady trickle of writes.
    ///   - busyTimeoutMs: how long a statement waits for another process's lock.
    ///   - restartFrames: the log's size (pages) past which the writer copies
    ///     the rest of it so that it starts over (`SQLiteCheckpointer`).
    ///   - logger: where batch failures and close problems are reported.
    public init(directory: String, readers: Int = 2, maxBatch: Int = 1000, commitDelay: Duration = .zero,
                busyTimeoutMs: Int32 = 5_000, restartFrames: Int32 = SQLiteChatStore.restartFrames,
                logger: Logger = Logger(label: "social.sqlite")) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError.unavailable("sqlite: cannot create \(directory): \(error)")
        }
        let path = (directory as NSString).appendingPathComponent("social.sqlite3")
        self.path = path

        let db = try SQLiteConnection.open(path: path, busyTimeoutMs: busyTimeoutMs)
        let mode = try db.with("PRAGMA journal_mode = WAL") { try $0.first { $0.string(0) } }
        guard mode?.lowercased() == "wal" else {
            throw StoreError.unavailable("sqlite: \(path) cannot use WAL (journal_mode \(mode ?? "?"))")
        }
        // The writer's page cache: 32 MiB instead of SQLite's 2 MiB keeps the
        // b-tree pages every send touches (three per message, its chat's row)
        // in memory as the database grows (~15% less CPU per send measured).
        // `synchronous = NORMAL`: a COMMIT does not wait for the disk; the
        // writer's log-sync thread flushes the log before any write of the
        // group is acknowledged (`SQLiteLogSync`), while the writer goes on.
        // `journal_size_limit`: a log that grew past its usual size (a reader
        // held part of it) is cut back when it starts over.
        try db.execute("""
            PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -32768;
            PRAGMA journal_size_limit = \(Self.logSizeLimit(restartFrames: restartFrames));
            """)
        try SQLiteSchema.migrate(db)
        let log = try WriteAheadLog(databasePath: path)

        let readOnly = try (0..<max(1, readers)).map { _ in
            let reader = try SQLiteConnection.open(path: path, busyTimeoutMs: busyTimeoutMs)
            try reader.execute("PRAGMA query_only = ON;")
            return reader
        }
        let checkpointer = SQLiteCheckpointer(
            connection: try SQLiteConnection.open(path: path, busyTimeoutMs: busyTimeoutMs),
            threshold: Self.checkpointFrames, restartFrames: restartFrames, logger: logger)
        db.reportWALSize(to: checkpointer)
        self.checkpointer = checkpointer
        writer = SQLiteWriter(connection: db, maxBatch: maxBatch, commitDelay: commitDelay,
                              syncLog: { try log.sync() }, logger: logger)
        self.readers = SQLiteReaders(connections: readOnly)
    }

    /// The log's size (pages) past which it is copied into the database file:
    /// SQLite's default for its automatic checkpoint (about 4 MiB).
    static let checkpointFrames: Int32 = 1_000

    /// The log's size (pages) past which the writer copies the rest of it
    /// itself so that it starts over (`SQLiteCheckpointer.restartIfDue`):
    /// about 64 MiB, a pause of a few milliseconds every 1.3 s at 2,000 chat
    /// messages/s.
    public static let restartFrames: Int32 = 16_000

    /// The bytes a log of a store started with `restartFrames` is cut back
    /// to when it starts over (`journal_size_limit`): two checkpoints' worth
    /// more than its restart size, at 4,120 bytes a frame (a 4 KiB page and
    /// its 24-byte header).
    public static func logSizeLimit(restartFrames: Int32) -> Int {
        Int(max(restartFrames, checkpointFrames) + 2 * checkpointFrames) * 4_120
    }

    deinit {
        // Without `close()`, the threads still finish what is queued, then exit.
        writer.stopAccepting()
        readers.stopAccepting()
        checkpointer.stop()
    }

    /// Finishes queued reads and writes, stops the threads, checkpoints the
    /// WAL into the database file and closes every connection. Later calls
    /// fail with `unavailable`. Idempotent.
    public func close() async {
        await readers.close()
        await checkpointer.close()      // so the writer's last checkpoint is not refused as busy
        await writer.close()
    }

    /// Group-commit figures since the store opened.
    public struct WriteStats: Sendable, Equatable {
        /// Transactions committed.
        public var transactions: Int
        /// Writes that succeeded in them; `writes / transactions` is the mean group size.
        public var writes: Int
    }

    public var writeStats: WriteStats {
        let stats = writer.stats
        return WriteStats(transactions: stats.batches, writes: stats.ops)
    }

    public func ping() async -> Bool {
        (try? await readers.read { db in try db.with("SELECT 1") { try $0.step() } }) ?? false
    }
}
