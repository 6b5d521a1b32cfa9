import Dispatch
import Foundation
import Logging
import SocialCore
import Synchronization

/// Copies the write-ahead log into the database file on a thread of its own,
/// so that the writer's commits never wait for a checkpoint. (SQLite's
/// automatic checkpoint runs inside the COMMIT that crosses its threshold: it
/// copies the log's pages and fsyncs the database file, a pause of
/// milliseconds for every acknowledgement queued behind it.)
///
/// The writer's connection reports the log's size after each commit
/// (`walGrew(to:)`, SQLite's WAL hook, which also turns the automatic
/// checkpoint off); past `threshold` frames this thread runs a PASSIVE
/// checkpoint on its own connection: it copies what no reader still needs
/// without blocking the writer.
///
/// SQLite starts the log over only when a write transaction begins with all
/// of it copied, which steady writes never allow (the copy always ends a few
/// commits behind). So past `restartFrames` the writer copies the rest
/// itself between two groups (`restartIfDue`): a pause of a few
/// milliseconds (two flushes) about once per `restartFrames` frames, and its
/// next transaction starts the log over.
///
/// Threads: `walGrew` and `restartIfDue` on the writer thread; `stop` and `close` from any
/// thread or task; the connection is used only by the checkpointer's thread.
final class SQLiteCheckpointer: Sendable {
    private let threshold: Int32
    private let logger: Logger
    private let wake = DispatchSemaphore(value: 0)
    /// A checkpoint was asked for and has not started yet.
    private let requested = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let exited = ThreadExit()
    private let runs = Atomic<Int>(0)
    /// The log's size after the previous commit, and the size that asks for
    /// the next checkpoint. Only the writer thread touches them.
    private let lastFrames = Atomic<Int32>(0)
    private let nextRequest: Atomic<Int32>
    /// The log's size past which the writer finishes a checkpoint itself
    /// (`restartIfDue`), and the size of the next attempt. Writer thread only.
    private let restartFrames: Int32
    private let nextRestart: Atomic<Int32>
    private let restarts = Atomic<Int>(0)

    /// Takes ownership of `connection` and starts the checkpointer thread.
    /// - Parameter threshold: the log's size, in frames (pages), that asks for a checkpoint.
    /// - Parameter restartFrames: the log's size past which the writer copies
    ///   the rest of it so that it starts over (at least `threshold`).
    init(connection: SQLiteConnection, threshold: Int32, restartFrames: Int32, logger: Logger) {
        self.threshold = threshold
        self.restartFrames = max(threshold, restartFrames)
        self.logger = logger
        nextRequest = Atomic(threshold)
        nextRestart = Atomic(self.restartFrames)
        let handoff = ThreadHandoff(connection)
        Thread.startNamed("sqlite-checkpt") { [self] in loop(handoff.take()) }
    }

    /// A commit left `frames` frames in the log. Writer thread; never blocks.
    ///
    /// Asks for a checkpoint each time the log has grown by `threshold`
    /// frames since the last request (or since the writer started it over):
    /// a checkpoint that could not copy everything (the writer kept
    /// appending) is not asked for again on every commit.
    func walGrew(to frames: Int32) {
        let last = lastFrames.exchange(frames, ordering: .relaxed)
        if frames < last {                  // the log was started over
            nextRequest.store(threshold, ordering: .relaxed)
            nextRestart.store(restartFrames, ordering: .relaxed)
        }
        guard frames >= nextRequest.load(ordering: .relaxed) else { return }
        nextRequest.store(frames + threshold, ordering: .relaxed)
        guard !requested.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wake.signal()
    }

    /// Writer thread, between groups: once the log holds `restartFrames`
    /// frames, copies what the checkpointer has not yet (on the writer's own
    /// connection: nothing is appended meanwhile, so the copy is complete
    /// unless a reader still needs part of the log), so that the writer's
    /// next transaction starts the log over.
    ///
    /// Without it the log grew by every commit under steady writes (25 KiB
    /// per chat message at 2,000 messages/s: a gigabyte in 20 s), and each
    /// flush of a growing file also wrote its new blocks and size.
    func restartIfDue(_ db: SQLiteConnection) {
        let frames = lastFrames.load(ordering: .relaxed)
        guard frames >= nextRestart.load(ordering: .relaxed) else { return }
        do {
            // nil: the checkpointer is copying; try again after the next group.
            guard let done = try db.checkpointPassive() else { return }
            if done.copied == done.frames { restarts.add(1, ordering: .relaxed) }
        } catch {
            logger.warning("sqlite: checkpoint before restarting the log failed", metadata: ["error": "\(error)"])
        }
        // A reader still needed part of the log (or the copy failed): try
        // again once it has grown by another `threshold` frames.
        nextRestart.store(frames + threshold, ordering: .relaxed)
    }

    /// Times the writer copied the rest of the log so that it starts over.
    var restartsCopied: Int { restarts.load(ordering: .relaxed) }

    /// Checkpoints that copied part of the log, since start.
    var checkpoints: Int { runs.load(ordering: .relaxed) }

    /// Ends the thread after the checkpoint it is running, if any.
    func stop() {
        stopping.store(true, ordering: .releasing)
        wake.signal()
    }

    /// `stop`, and returns once the thread has exited (its connection closed). Idempotent.
    func close() async {
        stop()
        await exited.wait()
    }

    // MARK: Checkpointer thread

    private func loop(_ db: SQLiteConnection) {
        // A connection learns that the database is in WAL mode at its first
        // read; until then `sqlite3_wal_checkpoint_v2` on it does nothing.
        do { try db.execute("SELECT count(*) FROM sqlite_schema") } catch {
            logger.warning("sqlite: the checkpointer cannot read the database", metadata: ["error": "\(error)"])
        }
        while true {
            wake.wait()
            if stopping.load(ordering: .acquiring) { break }
            requested.store(false, ordering: .releasing)
            do {
                // nil: the writer is copying the rest of the log (`restartIfDue`).
                if let done = try db.checkpointPassive(), done.copied > 0 { runs.add(1, ordering: .relaxed) }
            } catch {
                logger.warning("sqlite: checkpoint failed", metadata: ["error": "\(error)"])
            }
        }
        exited.finish()         // `db` closes when this frame ends, on this thread
    }
}
