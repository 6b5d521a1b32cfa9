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
/// without blocking the writer, and the writer starts the log over once all
/// of it is copied.
///
/// Threads: `walGrew` on the writer thread; `stop` and `close` from any
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

    /// Takes ownership of `connection` and starts the checkpointer thread.
    /// - Parameter threshold: the log's size, in frames (pages), that asks for a checkpoint.
    init(connection: SQLiteConnection, threshold: Int32, logger: Logger) {
        self.threshold = threshold
        self.logger = logger
        nextRequest = Atomic(threshold)
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
        if frames < last { nextRequest.store(threshold, ordering: .relaxed) }      // the log was started over
        guard frames >= nextRequest.load(ordering: .relaxed) else { return }
        nextRequest.store(frames + threshold, ordering: .relaxed)
        guard !requested.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wake.signal()
    }

    /// Checkpoints run since start.
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
        while true {
            wake.wait()
            if stopping.load(ordering: .acquiring) { break }
            requested.store(false, ordering: .releasing)
            do {
                try db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                runs.add(1, ordering: .relaxed)
            } catch {
                logger.warning("sqlite: checkpoint failed", metadata: ["error": "\(error)"])
            }
        }
        exited.finish()         // `db` closes when this frame ends, on this thread
    }
}
