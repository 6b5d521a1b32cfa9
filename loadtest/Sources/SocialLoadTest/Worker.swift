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

    private let plan: Plan
    private let index: Int
    private var loops: [WebSocketClientLoop] = []
    private var metrics: [Metrics] = []
    private var clients: [LoadClient] = []
    private var groups: [Group] = []
    /// `bots`: this worker's bots, and the groups (indices in `groups`) each one posts into.
    private var bots: [LoadClient] = []
    private var groupsOfBot: [[Int]] = []
    /// A client's group chat, by position in `clients`.
    private var chatOf: [String] = []
    private var openPerSecond: [Int] = []
    private var lastProgress: UInt64 = 0
    private var originNs: UInt64 = 0

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

    // MARK: setup

    /// Opens `subset` (default: every client) at this worker's share of the connect rate and waits for them.
    private func connectAll(phase: String, _ subset: [LoadClient]? = nil) throws {
        let targets = subset ?? clients
        let share = plan.connectRate > 0 ? plan.connectRate / Double(plan.workers) : 0
        let start = nowNs()
        for (i, client) in targets.enumerated() {
            if share > 0 {
                let due = start + UInt64(Double(i) / share * 1e9)
                while nowNs() < due { tick(phase: phase); Thread.sleep(forTimeInterval: 0.001) }
            }
            client.connect()
        }
        let deadline = nowNs() + seconds(plan.setupTimeout)
        var retries = 0
        while nowNs() < deadline {
            if !targets.contains(where: { $0.state == .connecting }) {
                // During setup a failed connection tries again, as an app would, up to 5 times a client
                // (each failure is counted, with its reason, in the report).
                let failed = phase == "setup" ? targets.filter(\.isClosed) : []
                if failed.isEmpty || retries >= 5 * targets.count { break }
                retries += failed.count
                Thread.sleep(forTimeInterval: 0.5)
                for client in failed { client.connect() }
            }
            tick(phase: phase)
            Thread.sleep(forTimeInterval: 0.02)
        }
        let open = targets.filter(\.isOpen).count
        if phase == "setup" && open < targets.count {
            let reasons = metrics.map { $0.snapshot().0.connectFailureReasons }.reduce(into: [String: Int]()) { $0.merge($1, uniquingKeysWith: +) }
            throw LoadTestError("worker \(index): \(open) of \(targets.count) connections opened within --setup-timeout; failures: \(reasons)")
        }
    }

    /// Closes `subset` on purpose and waits until they are closed.
    private func disconnectAll(_ subset: [LoadClient]) {
        for client in subset { client.disconnect() }
        let deadline = nowNs() + seconds(plan.setupTimeout)
        while subset.contains(where: { !$0.isClosed }) && nowNs() < deadline {
            tick(phase: "setup")
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    /// The first member of each group creates it, open; the others join, a
    /// batch at a time, each batch connected only while it joins: every join
    /// sends an event to every connected member, so joining with everyone
    /// connected would cost members² events (50 million for a 10,000-member
    /// group). Then everyone connects, at the chat's head.
    private func setUpGroups() throws {
        let size = plan.membersPerGroup
        groups = stride(from: 0, to: clients.count, by: size).map { Group(members: Array(clients[$0..<min(clients.count, $0 + size)])) }
        let owners = groups.map { $0.members[0] }
        try connectAll(phase: "setup", owners)
        let failures = FailureList()
        let setupSeq = SeqBox()
        let created = DispatchGroup()
        for g in groups.indices {
            created.enter()
            groups[g].members[0].call("group.create", args: "{\"title\":\"loadtest \(plan.runTag) \(g)\",\"open\":true}") { reply in
                if let chat = reply.ok?.group { self.setChat(g, chat.chatId); setupSeq.raise(g, to: chat.seq) } else { failures.add("group.create: \(reply.error?.message ?? "no group")") }
                created.leave()
            }
        }
        guard created.wait(timeout: .now() + plan.setupTimeout) == .success, failures.first == nil else {
            throw LoadTestError("worker \(index): group setup failed: \(failures.first ?? "timed out")")
        }
        if !bots.isEmpty { try setUpBots(seqs: setupSeq, failures: failures) }
        var joiners: [(group: Int, client: LoadClient)] = []
        for (g, group) in groups.enumerated() {
            for member in group.members { member.track(group.chatId) }
            joiners += group.members.dropFirst().map { (group: g, client: $0) }
        }
        let batchSize = 200
        for batchStart in stride(from: 0, to: joiners.count, by: batchSize) {
            let batch = Array(joiners[batchStart..<min(joiners.count, batchStart + batchSize)])
            try connectAll(phase: "setup", batch.map(\.client))
            let joined = DispatchGroup()
            for (g, member) in batch {
                joined.enter()
                join(member, g, attempt: 1, seqs: setupSeq, failures: failures, done: joined)
            }
            guard joined.wait(timeout: .now() + plan.setupTimeout) == .success, failures.first == nil else {
                throw LoadTestError("worker \(index): joining groups failed: \(failures.first ?? "timed out")")
            }
            disconnectAll(batch.map(\.client))
        }
        try connectAll(phase: "setup", joiners.map(\.client))
        // Every join is done: each chat's head is the highest seq its joins returned.
        // Events of the setup still on their way are at or below it, and ignored.
        for (g, group) in groups.enumerated() {
            for member in group.members { member.beginMeasuring(group.chatId, at: setupSeq.value(g)) }
        }
        // A connection is subscribed to its chats once it is open; a second lets the
        // last subscriptions settle (a member that misses messages shows as lost).
        Thread.sleep(forTimeInterval: 1)
        chatOf = groups.flatMap { group in group.members.map { _ in group.chatId } }
    }

    /// `bots`: each group's owner invites the bots that post into it (`group.invite`); then the
    /// bots connect with their `Bot` credentials and join (`group.join`). This happens before the
    /// members join, so every member's join reply already carries a seq above these events.
    private func setUpBots(seqs: SeqBox, failures: FailureList) throws {
        let invited = DispatchGroup()
        for (b, bot) in bots.enumerated() {
            for g in groupsOfBot[b] {
                invited.enter()
                groups[g].members[0].call("group.invite", args: "{\"group_id\":\"\(groups[g].chatId)\",\"user_id\":\"\(bot.user)\"}") { reply in
                    if reply.ok == nil { failures.add("group.invite of \(bot.user): \(reply.error?.message ?? "no reply")") }
                    invited.leave()
                }
            }
        }
        guard invited.wait(timeout: .now() + plan.setupTimeout) == .success, failures.first == nil else {
            throw LoadTestError("worker \(index): inviting bots failed: \(failures.first ?? "timed out")")
        }
        try connectAll(phase: "setup", bots)
        let joined = DispatchGroup()
        for (b, bot) in bots.enumerated() {
            for g in groupsOfBot[b] {
                bot.track(groups[g].chatId)
                joined.enter()
                join(bot, g, attempt: 1, seqs: seqs, failures: failures, done: joined)
            }
        }
        guard joined.wait(timeout: .now() + plan.setupTimeout) == .success, failures.first == nil else {
            throw LoadTestError("worker \(index): bots joining groups failed: \(failures.first ?? "timed out")")
        }
    }

    /// One `group.join`; a temporary error (`unavailable`, `overloaded`: a slow
    /// store under many concurrent joins) is retried after a pause, as an app would, up to 10 times.
    private func join(_ member: LoadClient, _ g: Int, attempt: Int, seqs: SeqBox, failures: FailureList, done: DispatchGroup) {
        let chat = groups[g].chatId
        member.call("group.join", args: "{\"group_id\":\"\(chat)\"}") { reply in
            if let group = reply.ok?.group {
                seqs.raise(g, to: group.seq)
            } else if reply.error?.temporary == true && attempt < 10 {
                DispatchQueue.global().asyncAfter(deadline: .now() + 0.5 * Double(attempt)) {
                    self.join(member, g, attempt: attempt + 1, seqs: seqs, failures: failures, done: done)
                }
                return
            } else {
                failures.add("group.join: \(reply.error?.message ?? "no reply")")
            }
            done.leave()
        }
    }

    private let chatLock = NSLock()
    private func setChat(_ g: Int, _ id: String) { chatLock.lock(); groups[g].chatId = id; chatLock.unlock() }

    // MARK: sending

    private func sendPhase() {
        let rate = plan.scenario == .fanout ? plan.rate : plan.rate * Double(clients.count) / Double(plan.connections)
        let senders = plan.scenario == .fanout ? [0] : Array(clients.indices)
        var random = SystemRandomNumberGenerator()
        let churn = plan.scenario == .churn
        var online = Array(repeating: true, count: clients.count)
        var toggleAt = clients.map { _ in originNs + seconds(Double.random(in: plan.onlineMin...plan.onlineMax, using: &random)) }
        var stormStart: UInt64?
        var issued = 0
        var cursor = 0
        var lastSweep: UInt64 = 0
        let end = originNs + seconds(plan.duration)
        while nowNs() < end {
            let now = nowNs()
            if plan.sends {
                let due = Int(rate * Double(now - originNs) / 1e9) - issued
                for _ in 0..<max(0, due) {
                    issued += 1
                    for _ in 0..<min(senders.count, 64) {
                        let c = senders[cursor % senders.count]
                        cursor += 1
                        if online[c] && clients[c].sendMessage(to: chatOf[c]) { break }
                    }
                }
            }
            // Going over every client is for every 20 ms, not every loop.
            let sweep = now - lastSweep >= 20_000_000
            if sweep { lastSweep = now }
            if churn && sweep {
                for c in clients.indices where now >= toggleAt[c] {
                    if online[c] {
                        guard clients[c].isOpen, !clients[c].isSyncing, clients[c].inflightCount == 0 else { continue }
                        clients[c].disconnect()
                        online[c] = false
                        toggleAt[c] = now + seconds(Double.random(in: plan.offlineMin...plan.offlineMax, using: &random))
                    } else {
                        clients[c].connect(sync: true)
                        metrics[0].record(now) { t, _ in t.reconnects += 1 }
                        online[c] = true
                        toggleAt[c] = now + seconds(Double.random(in: plan.onlineMin...plan.onlineMax, using: &random))
                    }
                }
            }
            if plan.scenario == .reconnectStorm, stormStart == nil, now >= originNs + seconds(plan.stormAt) {
                stormStart = now
                storm(at: now)
            }
            if sweep && (plan.scenario == .churn || plan.scenario == .reconnectStorm) {
                retryDropped(online: online, at: now)
            }
            tick()
            Thread.sleep(forTimeInterval: 0.002)
        }
        if churn {
            for c in clients.indices where !online[c] {
                clients[c].connect(sync: true)
                metrics[0].record { t, _ in t.reconnects += 1 }
            }
        }
        if let stormStart { stormResync(since: stormStart) }
    }

    /// `bots`: this worker's bots send their share of `--rate`, each in turn, each
    /// into its chats in turn; members only receive.
    private func botSendPhase() {
        let rate = plan.rate * Double(bots.count) / Double(max(1, plan.bots))
        var nextChat = Array(repeating: 0, count: bots.count)
        var issued = 0
        var cursor = 0
        let end = originNs + seconds(plan.duration)
        while nowNs() < end {
            let due = Int(rate * Double(nowNs() - originNs) / 1e9) - issued
            for _ in 0..<max(0, due) {
                issued += 1
                // A bot that cannot send now (reconnecting) leaves its turn to the next one.
                for _ in 0..<bots.count {
                    let b = cursor % bots.count
                    cursor += 1
                    let g = groupsOfBot[b][nextChat[b] % groupsOfBot[b].count]
                    if bots[b].sendMessage(to: groups[g].chatId) {
                        nextChat[b] += 1
                        break
                    }
                }
            }
            tick()
            Thread.sleep(forTimeInterval: 0.002)
        }
    }

    /// Messages of `group`'s chat acknowledged to its senders: its members and, in `bots`, its bots.
    private func acked(in group: Group) -> Int {
        (group.members + bots).reduce(0) { sum, client in
            sum + (client.chatSnapshot().first { $0.chatId == group.chatId }?.acked ?? 0)
        }
    }

    /// Every client drops at once and comes back (at the connect rate, 0: all at once) and resyncs.
    private func storm(at now: UInt64) {
        while clients.contains(where: { $0.inflightCount > 0 }) && nowNs() < now + seconds(plan.drainTimeout) {
            Thread.sleep(forTimeInterval: 0.001)
        }
        for client in clients { client.disconnect() }
        let share = plan.connectRate > 0 ? plan.connectRate / Double(plan.workers) : 0
        for (i, client) in clients.enumerated() {
            if share > 0 {
                let due = now + UInt64(Double(i) / share * 1e9)
                while nowNs() < due { Thread.sleep(forTimeInterval: 0.001) }
            }
            client.connect(sync: true)
            metrics[0].record { t, _ in t.reconnects += 1 }
        }
    }

    private var retryAt: [Int: UInt64] = [:]
    /// Clients that should be online but whose connection failed or dropped reconnect after a second.
    private func retryDropped(online: [Bool], at now: UInt64) {
        for c in clients.indices where online[c] && clients[c].isClosed {
            if let at = retryAt[c] {
                if now >= at {
                    retryAt[c] = nil
                    clients[c].connect(sync: true)
                }
            } else {
                retryAt[c] = now + 1_000_000_000
            }
        }
    }

    /// Waits until every client resynced after the storm (or the drain timeout) and records how long it took.
    private func stormResync(since start: UInt64) {
        let deadline = nowNs() + seconds(plan.drainTimeout)
        while nowNs() < deadline {
            retryDropped(online: Array(repeating: true, count: clients.count), at: nowNs())
            if clients.allSatisfy({ $0.isOpen && !$0.isSyncing }) { break }
            tick()
            Thread.sleep(forTimeInterval: 0.02)
        }
        let last = clients.compactMap(\.resyncedAtNs).max()
        if clients.allSatisfy({ $0.resyncedAtNs != nil }), let last {
            metrics[0].record { t, _ in t.stormResyncSeconds = Double(last - start) / 1e9 }
        }
    }

    /// After sending: every send answered, every member caught up (or the drain timeout).
    private func drain() {
        let deadline = nowNs() + seconds(plan.drainTimeout)
        while nowNs() < deadline {
            if plan.scenario == .churn || plan.scenario == .reconnectStorm {
                retryDropped(online: Array(repeating: true, count: clients.count), at: nowNs())
            }
            if settled() { break }
            tick()
            Thread.sleep(forTimeInterval: 0.05)
        }
        tick()
    }

    private func settled() -> Bool {
        guard clients.allSatisfy({ $0.inflightCount == 0 && !$0.isSyncing }), bots.allSatisfy({ $0.inflightCount == 0 }) else { return false }
        for group in groups {
            let tracks = group.members.compactMap { $0.chatSnapshot().first { $0.chatId == group.chatId } }
            let acked = acked(in: group)
            if tracks.contains(where: { $0.applied < acked }) { return false }
        }
        return true
    }

    // MARK: reporting

    /// Records the open connections of the current second and prints progress once a second.
    private func tick(phase: String = "run") {
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

    private func resultJSON() throws -> String {
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

    private func shutdown() {
        for client in clients + bots where client.isOpen { client.disconnect() }
        Thread.sleep(forTimeInterval: 0.3)
        for loop in loops { loop.shutdown() }
        loops = []
    }

    private func seconds(_ s: Double) -> UInt64 { UInt64(max(0, s) * 1e9) }

    /// One JSON line to the coordinator.
    private func emit(_ object: [String: Any]) {
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

/// Errors of concurrent setup replies. The lock guards `items`, hence @unchecked Sendable.
final class FailureList: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ item: String) { lock.lock(); items.append(item); lock.unlock() }
    var first: String? { lock.lock(); defer { lock.unlock() }; return items.first }
}

/// The highest seq each group reached during setup. The lock guards `seqs`, hence @unchecked Sendable.
final class SeqBox: @unchecked Sendable {
    private let lock = NSLock()
    private var seqs: [Int: Int64] = [:]
    func raise(_ g: Int, to seq: Int64) { lock.lock(); seqs[g] = max(seqs[g] ?? 0, seq); lock.unlock() }
    func value(_ g: Int) -> Int64 { lock.lock(); defer { lock.unlock() }; return seqs[g] ?? 0 }
}

struct LoadTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
