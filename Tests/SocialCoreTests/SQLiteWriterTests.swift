import Foundation
import Logging
import SocialCore
@testable import SocialSQLite
import Synchronization
import Testing

/// Group commit: writes queued together commit in one transaction, a failing
/// write rolls back alone, and completions run after the commit in queue
/// order. (In `StoreContractTests` so `--filter StoreContract` runs it too.)
extension StoreContractTests {
    static func chat(_ id: ChatID) -> Chat {
        Chat(id: id, kind: .group, title: id, isOpen: true, owner: nil, directUsers: [], seq: 0, createdAt: 0)
    }

    /// Holds the writer thread in a write of its own until `release` is
    /// called, so that what is queued meanwhile forms one batch.
    struct HeldWriter {
        let gate = DispatchSemaphore(value: 0)
        let held: Task<Void, any Error>

        init(_ writer: SQLiteWriter) async {
            let holding = ThreadExit()
            held = Task { [gate] in try await writer.submit { _ in
                holding.finish()
                gate.wait()
            } }
            await holding.wait()
        }

        func release() async throws {
            gate.signal()
            try await held.value
        }
    }

    @Test func sqliteGroupCommitRollsBackOnlyTheFailingWrite() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteChatStore(directory: directory.path)
        let writer = store.writer

        let held = await HeldWriter(writer)
        let before = writer.stats

        let ok1 = Task { try await writer.submit { db in try db.insert(Self.chat("a")) } }
        let thrown = Task { try await writer.submit { db in
            try db.insert(Self.chat("b"))
            throw StoreError.conflict("refused after writing")
        } }
        let sqlFailure = Task { try await writer.submit { db in
            try db.insert(Self.chat("a2"))
            try db.insert(Self.chat("a2"))                        // primary key violation
        } }
        let ok2 = Task { try await writer.submit { db in try db.insert(Self.chat("c")) } }
        while writer.queued < 4 { try await Task.sleep(for: .milliseconds(1)) }
        try await held.release()

        try await ok1.value
        try await ok2.value
        await #expect(throws: StoreError.conflict("refused after writing")) { try await thrown.value }
        let error = await #expect(throws: StoreError.self) { try await sqlFailure.value }
        #expect(error?.isConflict == true)

        #expect(try await store.chat("a") != nil)
        #expect(try await store.chat("c") != nil)
        #expect(try await store.chat("b") == nil, "the failing write's own insert is rolled back")
        #expect(try await store.chat("a2") == nil)
        let after = writer.stats
        #expect(after.batches - before.batches == 2, "the held write, then one batch of four")
        #expect(after.ops - before.ops == 3, "the held write and the two successful ones")
        await store.close()
    }

    /// A refusal that is not a store error (as `LogRules` throws).
    struct Refusal: Error, Equatable {
        let reason: String
    }

    @Test func sqliteCompletionsRunAfterTheCommitInQueueOrderWithErrorsUnchanged() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteChatStore(directory: directory.path)
        let writer = store.writer
        let held = await HeldWriter(writer)

        final class Log: Sendable {
            let entries = Mutex<[(index: Int, thread: pthread_t, committed: Bool, error: (any Error)?)]>([])
            /// The thread the ops ran on: the writer's.
            let writerThread = Mutex<pthread_t?>(nil)
        }
        let log = Log()
        let finished = ThreadExit()
        let total = 5
        for index in 0..<total {
            writer.enqueue({ db -> Int in
                log.writerThread.withLock { $0 = pthread_self() }
                switch index {
                case 1: throw Refusal(reason: "rule")
                case 3:
                    try db.insert(Self.chat("x"))
                    try db.insert(Self.chat("x"))                 // a SQLite failure
                default: try db.insert(Self.chat("c\(index)"))
                }
                return index
            }, completion: { result in
                // A reader sees the batch's writes: the completion runs after the COMMIT.
                let committed = (try? db(directory.path).chatExists("c0")) ?? false
                let error: (any Error)? = if case .failure(let error) = result { error } else { nil }
                let count = log.entries.withLock {
                    $0.append((index, pthread_self(), committed, error))
                    return $0.count
                }
                if count == total { finished.finish() }
            })
        }
        while writer.queued < total { try await Task.sleep(for: .milliseconds(1)) }
        try await held.release()
        await finished.wait()

        let entries = log.entries.withLock { $0 }
        #expect(entries.map(\.index) == Array(0..<total), "completions in queue order, failures in their place")
        // On the log-sync thread, or on the writer's when it had nothing else
        // to run during the flush: on one of them for the whole group.
        #expect(log.writerThread.withLock { $0 } != nil)
        #expect(entries.allSatisfy { pthread_equal($0.thread, entries[0].thread) != 0 }, "all on one thread")
        #expect(entries.allSatisfy { $0.committed }, "after the COMMIT")
        #expect(entries[1].error as? Refusal == Refusal(reason: "rule"), "a rule's error reaches the completion unchanged")
        #expect((entries[3].error as? StoreError)?.isConflict == true, "a SQLite failure is a StoreError")
        #expect(entries.filter { $0.error == nil }.count == 3)
        #expect(try await store.chat("x") == nil)
        await store.close()
    }
}

/// A read-only connection of its own to the store at `directory` (not one
/// of the store's threads: only for checking what is committed).
private func db(_ directory: String) throws -> SQLiteConnection {
    try SQLiteConnection.open(path: directory + "/social.sqlite3", busyTimeoutMs: 1_000)
}

extension StoreContractTests {
    /// With a commit delay, a write that arrives while the batch waits joins it.
    @Test func sqliteCommitDelayGathersWritesIntoOneTransaction() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteChatStore(directory: directory.path, commitDelay: .milliseconds(200))
        let before = store.writeStats
        async let first = store.createGroup(id: "a", title: "A", isOpen: true, owner: "ann", now: 0)
        try await Task.sleep(for: .milliseconds(20))
        async let second = store.createGroup(id: "b", title: "B", isOpen: true, owner: "bob", now: 0)
        _ = try await (first, second)
        let after = store.writeStats
        #expect(after.transactions - before.transactions == 1, "both writes in one commit")
        #expect(after.writes - before.writes == 2)
        await store.close()
    }
}

/// The log sync: a group's completions wait for the flush of the log that
/// follows its COMMIT, the writer runs the next group meanwhile, and a
/// failed flush fails the writes it held. (A writer on a scratch database
/// with a flush the test controls.)
extension StoreContractTests {
    /// A flush that waits for the test, and counts the flushes.
    final class HeldFlush: Sendable {
        let gate = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        let failing = Atomic<Bool>(false)
        let flushes = Atomic<Int>(0)

        /// Returns once a flush has begun (polling: the test's task does not block a pool thread).
        func begun() async throws {
            while started.wait(timeout: .now()) == .timedOut { try await Task.sleep(for: .milliseconds(1)) }
        }

        func flush() throws {
            started.signal()
            gate.wait()
            flushes.add(1, ordering: .relaxed)
            if failing.load(ordering: .relaxed) { throw StoreError.unavailable("disk gone") }
        }
    }

    private static func scratchWriter(_ directory: TemporaryDirectory, _ flush: HeldFlush) throws -> SQLiteWriter {
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        let db = try SQLiteConnection.open(path: directory.path + "/scratch.sqlite3", busyTimeoutMs: 1_000)
        try db.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; CREATE TABLE t (x INTEGER);")
        return SQLiteWriter(connection: db, maxBatch: 64, syncLog: { try flush.flush() },
                            logger: Logger(label: "test"))
    }

    @Test func sqliteCompletionsWaitForTheFlushWhileTheWriterGoesOn() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let flush = HeldFlush()
        let writer = try Self.scratchWriter(directory, flush)
        final class Order: Sendable { let steps = Mutex<[String]>([]) }
        let order = Order()

        // The first write waits, in the writer, for the second to be queued:
        // with work queued behind it, its group goes to the log-sync thread.
        let queuedBehind = DispatchSemaphore(value: 0)
        let firstRunning = DispatchSemaphore(value: 0)
        let first = Task {
            try await writer.submit { db in
                firstRunning.signal()
                queuedBehind.wait()
                try db.execute("INSERT INTO t VALUES (1)")
            }
            order.steps.withLock { $0.append("first done") }
        }
        while firstRunning.wait(timeout: .now()) == .timedOut { try await Task.sleep(for: .milliseconds(1)) }
        let second = Task {
            try await writer.submit { db in
                order.steps.withLock { $0.append("second ran") }
                try db.execute("INSERT INTO t VALUES (2)")
            }
        }
        while writer.queued < 1 { try await Task.sleep(for: .milliseconds(1)) }
        order.steps.withLock { $0.append("first flushing") }
        queuedBehind.signal()
        try await flush.begun()     // the first group committed; its flush holds
        while order.steps.withLock({ $0.count }) < 2 { try await Task.sleep(for: .milliseconds(1)) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(order.steps.withLock { $0 } == ["first flushing", "second ran"],
                "the writer ran the second write while the first was being flushed; the first is not acknowledged before its flush")

        flush.gate.signal()                                   // the first group's flush
        try await first.value
        #expect(order.steps.withLock { $0.last } == "first done")
        try await flush.begun()     // the second group, committed once the first was flushed
        flush.gate.signal()
        try await second.value
        #expect(flush.flushes.load(ordering: .relaxed) == 2)
        #expect(writer.stats.batches == 2)
        writer.stopAccepting()
    }

    /// (With nothing queued behind it, the writer flushes a group itself: this
    /// write is flushed, and fails, that way.)
    @Test func sqliteAFailedFlushFailsTheWritesItHeld() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let flush = HeldFlush()
        flush.failing.store(true, ordering: .relaxed)
        let writer = try Self.scratchWriter(directory, flush)
        let write = Task { try await writer.submit { db in try db.execute("INSERT INTO t VALUES (1)") } }
        try await flush.begun()
        flush.gate.signal()
        do {
            try await write.value
            Issue.record("a write whose flush failed was acknowledged")
        } catch let error as StoreError {
            #expect(error.message.contains("could not be flushed"), "\(error)")
        }
        writer.stopAccepting()
    }
}
