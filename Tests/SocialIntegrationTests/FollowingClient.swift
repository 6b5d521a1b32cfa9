import Foundation
import SocialTesting

/// A receiving client that follows the protocol as the SDK does, on its own
/// thread: on `resync` it calls `sync`; while a `sync` is in flight it keeps
/// the chats' events aside and applies them after the reply with the event
/// rule (ignore what is at or below the position); a second `resync` during
/// a `sync` asks for another. It records every hole it would have had to
/// find on its own: an event applied more than one past its chat's position
/// while no `resync` was outstanding. That is the property of issue 13: a
/// session either receives every event, or a `resync` before the first
/// event that follows a hole.
final class FollowingClient: @unchecked Sendable {
    /// A hole with no `resync` before it.
    struct Hole: CustomStringConvertible {
        let chat: String
        let position: Int
        let got: Int
        var description: String { "\(chat.prefix(8)): at \(position), got \(got)" }
    }

    struct Report {
        var positions: [String: Int]
        /// The seqs that arrived live (`message.new`), by chat.
        var live: [String: [Int]]
        var silentHoles: [Hole]
        var resyncs: [String]
        var syncs: Int
        /// What happened, in order (resyncs, syncs and their answers, the first event after each): read when a check fails.
        var trace: [String]
    }

    let client: TestClient
    private let lock = NSLock()
    private var stopping = false
    private var done = false
    // The loop thread's state, read once it is done (under `lock`).
    private var report: Report
    private var pendingSync: Int?
    private var anotherSync = false
    private var held: [(chat: String, seq: Int)] = []
    private var nextId = 1_000_000

    /// Starts following; `start` is each chat's position when it began (from history).
    init(_ client: TestClient, start: [String: Int]) {
        self.client = client
        report = Report(positions: start, live: [:], silentHoles: [], resyncs: [], syncs: 0, trace: [])
        Thread.detachNewThread { [self] in run() }
    }

    /// Stops following (after what has arrived) and returns what it saw.
    func stop() -> Report {
        lock.withLock { stopping = true }
        while !lock.withLock({ done }) { Thread.sleep(forTimeInterval: 0.02) }
        return report
    }

    private func run() {
        while !lock.withLock({ stopping }) || pendingSync != nil {
            guard let frame = client.next(timeout: 0.1, where: { _ in true }) else {
                if lock.withLock({ stopping }) && pendingSync == nil { break }
                continue
            }
            handle(frame)
        }
        lock.withLock { done = true }
    }

    private func handle(_ frame: [String: Any]) {
        if let id = frame["id"] as? Int, id == pendingSync {
            pendingSync = nil
            if frame["ok"] == nil {  // as the SDK does: try again (after a pause)
                report.trace.append("sync \(id) failed: \(frame["error"] ?? "?")")
                Thread.sleep(forTimeInterval: 0.2)
                anotherSync = true
            }
            let ok = frame["ok"] as? [String: Any]
            for delta in ok?["chats"] as? [[String: Any]] ?? [] {
                guard let chat = (delta["chat"] as? [String: Any])?["chat_id"] as? String,
                      let position = delta["position"] as? Int else { continue }
                report.positions[chat] = max(report.positions[chat] ?? 0, position)
            }
            if ok?["more"] as? Bool == true { anotherSync = true }  // the rest of the changes: sync again
            report.trace.append("sync \(id) answered: \(report.positions.values.sorted())")
            if anotherSync { sync() } else { applyHeld() }
            return
        }
        switch frame["event"] as? String {
        case "resync":
            report.resyncs.append((frame["data"] as? [String: Any])?["reason"] as? String ?? "?")
            report.trace.append("resync \(report.resyncs.last!) at \(report.positions.values.sorted())")
            if pendingSync == nil { sync() } else { anotherSync = true }
        case "message.new":
            let message = (frame["data"] as? [String: Any])?["message"] as? [String: Any] ?? [:]
            guard let chat = message["chat_id"] as? String, let seq = message["seq"] as? Int else { return }
            report.live[chat, default: []].append(seq)
            if pendingSync != nil { held.append((chat, seq)) } else { apply(chat, seq) }
        default:
            break
        }
    }

    private func sync() {
        anotherSync = false
        nextId += 1
        pendingSync = nextId
        report.syncs += 1
        let chats = report.positions.map { ["chat_id": $0.key, "seq": $0.value] as [String: Any] }
        let frame: [String: Any] = ["id": nextId, "op": "sync", "args": ["chats": chats, "limit": 1000]]
        if let data = try? JSONSerialization.data(withJSONObject: frame) { client.send(Array(data)) }
    }

    private func applyHeld() {
        let events = held
        held = []
        for event in events { apply(event.chat, event.seq) }
    }

    /// The event rule: at or below the position, ignored; one past, applied; further, a hole.
    private func apply(_ chat: String, _ seq: Int) {
        let position = report.positions[chat] ?? 0
        guard seq > position else { return }
        if seq > position + 1 {
            report.silentHoles.append(Hole(chat: chat, position: position, got: seq))
            report.trace.append("hole in \(chat.prefix(8)): at \(position), got \(seq)")
        }
        report.positions[chat] = seq
    }
}
