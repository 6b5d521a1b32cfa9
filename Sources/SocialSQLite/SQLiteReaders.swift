import Foundation
import SocialCore

/// The store's reader threads, each owning a read-only connection (WAL lets
/// them read while the writer commits). Each read runs in its own read
/// transaction, so a read of several statements sees one snapshot.
///
/// Threads: `read` and `close` from any thread or task; each connection is
/// used only by its own reader thread.
final class SQLiteReaders: Sendable {
    private typealias Job = @Sendable (SQLiteConnection) -> Void

    private let queue = WorkQueue<Job>()
    private let exits: [ThreadExit]

    /// Takes ownership of `connections` and starts one thread for each.
    init(connections: [SQLiteConnection]) {
        exits = connections.map { _ in ThreadExit() }
        for (index, connection) in connections.enumerated() {
            let handoff = ThreadHandoff(connection)
            Thread.startNamed("sqlite-reader-\(index)") { [queue, exited = exits[index]] in
                Self.loop(handoff.take(), queue: queue)
                exited.finish()
            }
        }
    }

    /// Runs jobs until the queue is closed and drained; the connection is
    /// closed when this returns, on the reader thread.
    private static func loop(_ db: SQLiteConnection, queue: WorkQueue<Job>) {
        while let job = queue.take(max: 1).first { job(db) }
    }

    /// Runs `body` in a read transaction on a reader thread.
    func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job: Job = { db in
                let result: Result<T, any Error>
                do {
                    try db.with(.begin) { try $0.run() }
                    defer { try? db.with(.commit) { try $0.run() } }     // ends the read snapshot
                    result = .success(try body(db))
                } catch {
                    result = .failure(error as? StoreError ?? .unavailable("sqlite: \(error)"))
                }
                continuation.resume(with: result)
            }
            if !queue.push(job) { continuation.resume(throwing: StoreError.unavailable("sqlite: store is closed")) }
        }
    }

    /// Refuses new reads, finishes those queued, closes the connections and
    /// returns once every reader thread has exited. Idempotent.
    func close() async {
        stopAccepting()
        for exited in exits { await exited.wait() }
    }

    /// Refuses new reads; the threads finish those queued, then exit.
    func stopAccepting() { queue.close() }
}
