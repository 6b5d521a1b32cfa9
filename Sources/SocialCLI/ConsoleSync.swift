import Foundation

// What the console's input and output threads share.

/// Lines to stdout and stderr from several threads, each written whole and flushed.
final class Output: @unchecked Sendable {
    private let lock = NSLock()  // serializes writes, hence @unchecked Sendable

    func line(_ text: String) { write(text, to: stdout) }
    func error(_ text: String) { write(text, to: stderr) }

    private func write(_ text: String, to stream: UnsafeMutablePointer<FILE>) {
        lock.lock()
        defer { lock.unlock() }
        fputs(text + "\n", stream)
        fflush(stream)
    }
}

/// Ids of commands sent and not yet answered. `cond` guards every field, hence @unchecked Sendable.
final class PendingReplies: @unchecked Sendable {
    private let cond = NSCondition()
    private var ids = Set<Int>()
    private var closed = false

    func add(_ id: Int) { cond.lock(); ids.insert(id); cond.unlock() }

    func remove(_ id: Int) { cond.lock(); ids.remove(id); cond.broadcast(); cond.unlock() }

    func connectionClosed() { cond.lock(); closed = true; cond.broadcast(); cond.unlock() }

    var isClosed: Bool { cond.lock(); defer { cond.unlock() }; return closed }

    /// Waits until no reply is pending or the connection closed; returns the ids still pending.
    func waitUntilEmpty(timeout: Double) -> [Int] {
        let deadline = Date().addingTimeInterval(timeout)
        cond.lock()
        defer { cond.unlock() }
        while !ids.isEmpty && !closed {
            if !cond.wait(until: deadline) { break }
        }
        return ids.sorted()
    }
}

/// The exit status, settled once by whichever side ends first. `cond` guards it, hence @unchecked Sendable.
final class Outcome: @unchecked Sendable {
    private let cond = NSCondition()
    private var status: Int32?

    func settle(_ value: Int32) {
        cond.lock()
        if status == nil { status = value }
        cond.broadcast()
        cond.unlock()
    }

    var isSettled: Bool { cond.lock(); defer { cond.unlock() }; return status != nil }

    func wait() -> Int32 {
        cond.lock()
        defer { cond.unlock() }
        while status == nil { cond.wait() }
        return status!
    }
}
