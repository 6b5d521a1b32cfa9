import Foundation
import Logging
import Metrics
import SocialCore
import Synchronization

/// Makes the writer's commits durable on a thread of its own, so that the
/// writer runs the next group while the disk flushes the last one.
///
/// The writer's connection commits with `synchronous = NORMAL`: a COMMIT
/// writes the group's pages to the write-ahead log and returns without
/// waiting for the disk. The writer then hands the group here: this thread
/// takes every group handed over since its last flush, calls `fdatasync` on
/// the log once for all of them (`WriteAheadLog.sync`), and only then runs
/// their completions, in commit order. A completion that reports success
/// therefore still has its change on disk (as with `synchronous = FULL`, where
/// the COMMIT itself waited), but the writer no longer idles through the
/// flush: under load a flush covers several groups, and the time an
/// acknowledgement waits is about one flush, not a queue of them.
///
/// What the change costs: another connection may read a group's change up
/// to one flush before it is durable (a power cut in that window loses a
/// change someone has read, never one that was acknowledged). A failed
/// flush fails every write of the groups it covered with `unavailable`
/// (their changes may or may not be on disk; a client retries with its
/// `client_msg_id`).
///
/// When the writer has nothing queued to run during a flush and every group
/// it handed over is complete, it flushes and completes the group itself
/// (`settleHere`): at a light load that saves two hand-offs per group, and
/// there is nothing to overlap anyway.
///
/// Threads: `hand`, `settleHere`, `completed`, `waitForFlush` and `finish` on the writer
/// thread (`finish` once it has handed its last group); `sync` and the
/// completions on this thread, or on the writer's in `settleHere` (never
/// both at once: the writer settles only once this thread has completed
/// every group, and hands nothing meanwhile).
final class SQLiteLogSync: Sendable {
    /// A committed group: its completions in order, the writes its COMMIT
    /// made durable (none when every write failed: no flush is needed), and
    /// when its COMMIT began.
    struct Group: Sendable {
        let outcomes: [SQLiteWriter.Outcome]
        let writes: Int
        let commitStartedNs: UInt64
        var changed: Bool { writes > 0 }
    }

    private let groups = WorkQueue<Group>()
    private let sync: @Sendable () throws -> Void
    private let logger: Logger
    private let done = DispatchSemaphore(value: 0)
    /// The groups that changed something, counted and timed together once
    /// flushed, so the three series agree (the writer commits them earlier).
    private let commitTimer = Timer(label: "social_store_commit_seconds")
    private let commitsCounter = Counter(label: "social_store_commits_total")
    private let commitWritesCounter = Counter(label: "social_store_commit_writes_total")
    /// Wakes the writer when it waits for a flush (`waitForFlush`).
    private let wakeWriter: @Sendable () -> Void
    private let counts = GroupCounts()

    /// Starts the thread. `sync` makes everything written to the log so far
    /// durable (it throws when it cannot); `wakeWriter` makes the writer's
    /// wait for a flush return (`waitForFlush`).
    init(sync: @escaping @Sendable () throws -> Void, logger: Logger, wakeWriter: @escaping @Sendable () -> Void) {
        self.sync = sync
        self.logger = logger
        self.wakeWriter = wakeWriter
        Thread.startNamed("sqlite-sync") { [self] in loop() }
    }

    /// Queues a committed group for the next flush. Writer thread.
    func hand(_ group: Group) {
        if !groups.push(group) {
            // Only after `finish`, which the writer calls last: nothing is left to flush it.
            assertionFailure("a group handed after finish")
        }
    }

    /// Flushes and completes every group handed so far, then stops the
    /// thread; returns once it has. Writer thread, after its last group.
    func finish() {
        groups.close()
        done.wait()
    }

    /// Flushes and completes `group` on the calling thread (the writer's),
    /// when nothing queued could run during the flush and every group handed
    /// before is complete (`completed`): as a COMMIT with `synchronous =
    /// FULL` would, without a hand-off. Writer thread.
    func settleHere(_ group: Group) {
        settle([group], flushed: nil)
    }

    /// Groups handed over and completed so far (the writer compares it with
    /// the groups it handed before it settles one itself). Writer thread.
    var completed: Int { counts.completed.load(ordering: .acquiring) }

    /// Whether some of the `handed` groups are still to be flushed; if so,
    /// the next flush calls `wakeWriter`. Writer thread.
    ///
    /// The writer asks to be woken, then looks again: either this thread
    /// sees the request after its flush, or the writer sees the flush
    /// (both sequentially consistent), so no wake-up is lost; a flush
    /// nobody waits for wakes nobody.
    func waitForFlush(handed: Int) -> Bool {
        guard counts.flushing(handed) else { return false }
        counts.awaited.store(true, ordering: .sequentiallyConsistent)
        guard !counts.flushing(handed) else { return true }
        counts.awaited.store(false, ordering: .sequentiallyConsistent)
        return false
    }

    private func loop() {
        while true {
            let taken = groups.take(max: .max)
            if taken.isEmpty { break }
            settle(taken) { [counts, wakeWriter] in
                counts.flushed.add(taken.count, ordering: .sequentiallyConsistent)
                if counts.awaited.exchange(false, ordering: .sequentiallyConsistent) { wakeWriter() }
            }
            counts.completed.add(taken.count, ordering: .releasing)
        }
        done.signal()
    }

    /// One flush for `taken`, then their completions in order. `flushed`
    /// runs between the two.
    private func settle(_ taken: [Group], flushed: (() -> Void)?) {
        var failure: (any Error)?
        if taken.contains(where: \.changed) {
            do { try sync() } catch {
                logger.error("sqlite: the log could not be flushed; failing the writes it held", metadata: [
                    "error": "\(error)", "groups": "\(taken.count)"])
                failure = StoreError.unavailable("sqlite: the log could not be flushed to disk: \(error)")
            }
        }
        let now = DispatchTime.now().uptimeNanoseconds
        flushed?()          // the writer may commit its next group while these complete
        for group in taken {
            if group.changed {
                commitTimer.recordNanoseconds(Int64(now - group.commitStartedNs))
                commitsCounter.increment()
                commitWritesCounter.increment(by: group.writes)
            }
            for outcome in group.outcomes {
                switch outcome {
                case .succeeded(let complete, let fail):
                    if let failure { fail(failure) } else { complete() }
                case .failed(let fail):
                    fail()
                }
            }
        }
    }
}

/// What the log-sync thread tells the writer thread: groups flushed and
/// completed so far, and whether the writer waits for a flush.
private final class GroupCounts: Sendable {
    let flushed = Atomic<Int>(0)
    let completed = Atomic<Int>(0)
    let awaited = Atomic<Bool>(false)

    /// Whether some of the `handed` groups are not flushed yet.
    func flushing(_ handed: Int) -> Bool { flushed.load(ordering: .sequentiallyConsistent) < handed }
}

/// The store's write-ahead log file, opened a second time to flush it:
/// `fdatasync` on any descriptor of a file flushes the file. If the log's
/// path names another file (SQLite deletes the log only when its last
/// connection closes, so this should not happen while the store is open),
/// the new one is opened before the flush.
///
/// Threads: used by the sync thread only, after `init`.
final class WriteAheadLog: @unchecked Sendable {
    let path: String
    private var fd: Int32
    private var inode: ino_t

    /// Opens (or creates, empty, as SQLite would) the log of the database at `databasePath`.
    init(databasePath: String) throws {
        path = databasePath + "-wal"
        (fd, inode) = try Self.open(path)
    }

    deinit { Foundation.close(fd) }

    /// Everything written to the log so far is on disk once this returns.
    func sync() throws {
        var now = stat()
        if stat(path, &now) != 0 || now.st_ino != inode {
            let (newFd, newInode) = try Self.open(path)
            Foundation.close(fd)
            (fd, inode) = (newFd, newInode)
        }
        guard fdatasync(fd) == 0 else { throw StoreError.unavailable("fdatasync \(path): \(String(cString: strerror(errno)))") }
    }

    private static func open(_ path: String) throws -> (Int32, ino_t) {
        let fd = Foundation.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError.unavailable("sqlite: cannot open \(path): \(String(cString: strerror(errno)))") }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let error = String(cString: strerror(errno))
            Foundation.close(fd)
            throw StoreError.unavailable("sqlite: cannot stat \(path): \(error)")
        }
        return (fd, info.st_ino)
    }
}
