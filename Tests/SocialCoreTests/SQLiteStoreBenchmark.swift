import Foundation
import Synchronization
import SocialCore
import SocialSQLite
import Testing

/// Appends per second through `SQLiteChatStore`: a benchmark run by hand,
/// printing figures and asserting nothing about time:
///
///     STORE_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter SQLiteStoreBenchmark
///
/// (`-enable-testing` because `SQLiteWriterTests` uses `@testable import`.)
///
/// `STORE_BENCH_APPENDERS` (default 64) concurrent tasks each append
/// `STORE_BENCH_PER_APPENDER` (default 2000) messages, one after another,
/// each with a client message id, into their own chat and then all into one
/// chat. The third layout is the hot path's: one thread submits the same
/// sends with completions (no task per send), at most `STORE_BENCH_IN_FLIGHT`
/// (default 4096) waiting at once, as many pipelining connections would.
@Suite(.serialized) struct SQLiteStoreBenchmark {
    static let enabled = ProcessInfo.processInfo.environment["STORE_BENCH"] != nil
    static func setting(_ name: String, _ fallback: Int) -> Int {
        ProcessInfo.processInfo.environment[name].flatMap(Int.init) ?? fallback
    }

    @Test(.enabled(if: enabled), arguments: ["one chat per appender", "one chat for all", "submitted from one thread"])
    func appendsPerSecond(_ layout: String) async throws {
        let appenders = Self.setting("STORE_BENCH_APPENDERS", 64)
        let perAppender = Self.setting("STORE_BENCH_PER_APPENDER", 2_000)
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteChatStore(directory: directory.path)
        let shared = layout == "one chat for all"
        for i in 0..<(shared ? 1 : appenders) {
            _ = try await store.createGroup(id: "chat-\(i)", title: "bench", isOpen: true, owner: "u\(i)", now: 0)
        }
        if shared {                                 // senders must be members
            for a in 1..<appenders { _ = try await store.apply(.join(user: "u\(a)", role: .member), to: "chat-0", now: 0) }
        }
        let before = store.writeStats
        let clock = ContinuousClock()
        let start = clock.now
        let latencies = layout == "submitted from one thread"
            ? await Self.submitFromOneThread(store, appenders: appenders, perAppender: perAppender,
                                             inFlight: Self.setting("STORE_BENCH_IN_FLIGHT", 4_096))
            : try await withThrowingTaskGroup(of: [Duration].self) { group in
            for a in 0..<appenders {
                group.addTask {
                    var latencies: [Duration] = []
                    latencies.reserveCapacity(perAppender)
                    for n in 0..<perAppender {
                        let sent = clock.now
                        let result = try await store.append(NewMessage(
                            chatId: "chat-\(shared ? 0 : a)", sender: "u\(a)", text: "run number \(n) done, 5.2 km",
                            clientMsgId: "\(a)-\(n)", createdAt: 1_700_000_000_000))
                        precondition(!result.duplicate)
                        latencies.append(clock.now - sent)
                    }
                    return latencies
                }
            }
            return try await group.reduce(into: [Duration]()) { $0 += $1 }
        }
        let elapsed = clock.now - start
        let after = store.writeStats
        await store.close()

        let total = appenders * perAppender
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let sorted = latencies.sorted()
        func ms(_ q: Double) -> String {
            let d = sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]
            return String(format: "%.2f", Double(d.components.attoseconds) / 1e15 + Double(d.components.seconds) * 1e3)
        }
        let transactions = after.transactions - before.transactions
        print("""
            SQLiteChatStore append, \(layout): \(appenders) appenders x \(perAppender) = \(total) appends \
            in \(String(format: "%.2f", seconds)) s = \(Int(Double(total) / seconds)) appends/s; \
            \(transactions) transactions, mean group \(String(format: "%.1f", Double(after.writes - before.writes) / Double(max(1, transactions)))); \
            latency p50 \(ms(0.5)) ms, p99 \(ms(0.99)) ms
            """)
        #expect(latencies.count == total)
    }

    /// The sends of every appender, round robin, submitted from one thread
    /// with completions, at most `inFlight` at once; their latencies.
    static func submitFromOneThread(_ store: SQLiteChatStore, appenders: Int, perAppender: Int,
                                    inFlight: Int) async -> [Duration] {
        final class Latencies: Sendable {
            let values = Mutex<[Duration]>([])
        }
        let latencies = Latencies()
        let slots = DispatchSemaphore(value: inFlight)
        let done = DispatchSemaphore(value: 0)
        let clock = ContinuousClock()
        let total = appenders * perAppender
        let submitter = Thread {
            for n in 0..<perAppender {
                for a in 0..<appenders {
                    slots.wait()
                    let sent = clock.now
                    store.submit(.send(NewMessage(chatId: "chat-\(a)", sender: "u\(a)", text: "run number \(n) done, 5.2 km",
                                                  clientMsgId: "\(a)-\(n)", createdAt: 1_700_000_000_000))) { result in
                        guard case .success(.sent(let sent1)) = result, !sent1.duplicate else { fatalError("\(result)") }
                        let count = latencies.values.withLock {
                            $0.append(clock.now - sent)
                            return $0.count
                        }
                        slots.signal()
                        if count == total { done.signal() }
                    }
                }
            }
        }
        submitter.start()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread { done.wait(); continuation.resume() }.start()
        }
        return latencies.values.withLock { $0 }
    }
}
