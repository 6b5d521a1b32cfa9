import Foundation
import Logging
import SocialLWS
import SocialTesting

/// A worker process: drives its share of the plan's users, and talks to the
/// coordinator through JSON lines (stdout: `ready`, `progress`, `result`;
/// stdin: `go`). Runs on the main thread, which it blocks; the client loops'
/// threads do the I/O.
final class Worker {
    struct Group {
        var chatId = ""
        var members: [LoadClient]
    }

    let plan: Plan
    let index: Int
    var loops: [WebSocketClientLoop] = []
    var metrics: [Metrics] = []
    var clients: [LoadClient] = []
    var groups: [Group] = []
    /// `bots`: this worker's bots, and the groups (indices in `groups`) each one posts into.
    var bots: [LoadClient] = []
    var groupsOfBot: [[Int]] = []
    /// A client's group chat, by position in `clients`.
    var chatOf: [String] = []
    var openPerSecond: [Int] = []
    var lastProgress: UInt64 = 0
    var originNs: UInt64 = 0
    let chatLock = NSLock()
    var retryAt: [Int: UInt64] = [:]

    init(plan: Plan, index: Int) {
        self.plan = plan
        self.index = index
    }

    func run(minter: TokenMinter) throws {
        let users = plan.users(ofWorker: index)
        var logger = Logger(label: "social.loadtest")
        logger.logLevel = .error
        let threads = max(1, plan.clientThreads)
        let perLoop = (users.count + threads - 1) / threads
        loops = try (0..<threads).map { _ in try WebSocketClientLoop(maxConnections: perLoop + 16, logger: logger) }
        metrics = loops.map { _ in Metrics() }
        let targets = try plan.urls.map { try GatewayTarget(url: $0) }
        clients = users.enumerated().map { offset, user in
            let target = targets[user % targets.count]
            let request = target.request(token: minter.token(user: plan.userId(user), ttl: 86_400), deviceId: "lt",
                                         allowInsecureTLS: plan.insecure)
            return LoadClient(index: user, user: plan.userId(user), loop: loops[offset % threads], request: request,
                              metrics: metrics[offset % threads], runTag: plan.runTag, textBytes: plan.textBytes)
        }
        if plan.scenario == .bots {
            let mine = plan.bots(ofWorker: index)
            let groupCount = plan.groupCount(ofWorker: index)
            bots = mine.enumerated().map { local, b in
                let account = plan.botAccounts[b]
                var request = targets[b % targets.count].request(token: nil, deviceId: "lt-bot", allowInsecureTLS: plan.insecure)
                request.headers.append(("Authorization", "Bot \(account.id):\(account.secret)"))
                // Bots' keys (sender indices) follow the users', so members count them as others' messages.
                return LoadClient(index: plan.connections + b, user: account.id, loop: loops[local % threads], request: request,
                                  metrics: metrics[local % threads], runTag: plan.runTag, textBytes: plan.textBytes)
            }
            groupsOfBot = mine.indices.map { plan.groupsOfBot(local: $0, groupCount: groupCount) }
            for client in clients { client.expectsBotSenders = true }
        }
        defer { shutdown() }

        if plan.scenario != .connect {
            try setUpGroups()
        }
        emit(["t": "ready"])
        guard readLine() == "go" else { throw LoadTestError("worker \(index): no start signal") }
        originNs = nowNs()
        for m in metrics { m.startClock(at: originNs) }

        switch plan.scenario {
        case .connect:
            try connectAll(phase: "storm")
            let holdUntil = nowNs() + seconds(plan.hold)
            while nowNs() < holdUntil { tick(); Thread.sleep(forTimeInterval: 0.05) }
        case .chat, .fanout, .churn, .reconnectStorm:
            sendPhase()
            drain()
        case .bots:
            botSendPhase()
            drain()
        }
        emit(["t": "result", "result": try resultJSON()])
    }

    // MARK: reporting

    /// Records the open connections of the current second and prints progress once a second.
    func tick(phase: String = "run") {
        let now = nowNs()
        guard now - lastProgress >= 1_000_000_000 else { return }
        lastProgress = now
        let open = clients.reduce(0) { $0 + ($1.isOpen ? 1 : 0) }
        var line: [String: Any] = ["t": "progress", "phase": phase, "open": open]
        if originNs > 0 {
            let second = Int((now - originNs) / 1_000_000_000)
            if openPerSecond.count <= second { openPerSecond += repeatElement(open, count: second + 1 - openPerSecond.count) }
            openPerSecond[second] = open
            var sent = 0, acked = 0, delivered = 0, errors = 0
            for m in metrics {
                for s in m.snapshot().1 { sent += s.sent; acked += s.acked; delivered += s.delivered; errors += s.errors }
            }
            line["sent"] = sent
            line["acked"] = acked
            line["delivered"] = delivered
            line["errors"] = errors
        }
        emit(line)
    }

    func resultJSON() throws -> String {
        var tally = Tally()
        var timeline: [Second] = []
        for m in metrics {
            let (t, s) = m.snapshot()
            tally.add(t)
            if timeline.count < s.count { timeline += repeatElement(Second(), count: s.count - timeline.count) }
            for (i, second) in s.enumerated() { timeline[i].add(second) }
        }
        for (i, open) in openPerSecond.enumerated() where i < timeline.count { timeline[i].open = open }
        for client in clients + bots { tally.unanswered += client.abandonInflight() }
        for group in groups {
            let tracks = group.members.map { $0.chatSnapshot().first { $0.chatId == group.chatId } ?? ChatTrack(chatId: group.chatId) }
            let acked = acked(in: group)
            for track in tracks {
                tally.expected += acked
                tally.delivered += track.applied
                if track.applied < acked { tally.lost += acked - track.applied } else { tally.unacknowledgedDeliveries += track.applied - acked }
                tally.duplicated += track.duplicated
                tally.outOfOrder += track.outOfOrder
                tally.gaps += track.gaps
            }
        }
        let data = try JSONEncoder().encode(WorkerResult(tally: tally, timeline: timeline))
        return String(decoding: data, as: UTF8.self)
    }

    func shutdown() {
        for client in clients + bots where client.isOpen { client.disconnect() }
        Thread.sleep(forTimeInterval: 0.3)
        for loop in loops { loop.shutdown() }
        loops = []
    }

    func seconds(_ s: Double) -> UInt64 { UInt64(max(0, s) * 1e9) }

    /// One JSON line to the coordinator.
    func emit(_ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object) else { return }
        // The coordinator is gone (killed, interrupted): stop, do not run on unbounded.
        do { try FileHandle.standardOutput.write(contentsOf: data + Data("\n".utf8)) } catch { exit(1) }
    }
}

/// What a worker hands the coordinator.
struct WorkerResult: Codable {
    var tally: Tally
    var timeline: [Second]
}
