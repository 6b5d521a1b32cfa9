import Foundation
import Logging
import SocialLWS
import SocialTesting

/// Runs one benchmark against a gateway: connects every user, sets up the
/// groups, runs one phase per window size, and checks every delivery.
/// Runs on its own thread (it blocks); the connections' loops do the I/O.
final class BenchRunner {
    struct Plan {
        var target: GatewayTarget
        /// Where receivers connect, when not to `target` (another node).
        var receiverTarget: GatewayTarget?
        var senders: Int
        var sendersPerGroup: Int
        var receiversPerGroup: Int
        var windows: [Int]
        var duration: Double
        var count: Int?
        var textBytes: Int
        var drainTimeout: Double
        var clientThreads: Int
        var insecure: Bool
        /// The gateway's process id, for its CPU time (same machine only).
        var gatewayPid: Int32?
    }

    /// One group's chat and its members' connections.
    final class Group {
        let senders: [BenchConnection]
        let receivers: [BenchConnection]
        var chatId = ""
        /// The chat's seq once every member has joined.
        var setupSeq: Int64 = 0
        init(senders: [BenchConnection], receivers: [BenchConnection]) {
            self.senders = senders
            self.receivers = receivers
        }
        var members: [BenchConnection] { senders + receivers }
    }

    struct Outcome {
        var phases: [PhaseResult]
        var setupSeconds: Double
        /// `/proc/loadavg` before and after: other work on the machine skews the figures.
        var loadBefore: String
        var loadAfter: String
        /// Connections that closed before the end, with why.
        var closes: [String]
    }

    private let plan: Plan
    private let token: (String) -> String
    private let log: (String) -> Void
    private let runTag = String(UUID().uuidString.prefix(8)).lowercased()
    private var groups: [Group] = []
    private var loops: [WebSocketClientLoop] = []

    /// - Parameters:
    ///   - token: an access token for a user id.
    ///   - log: progress lines (stderr).
    init(plan: Plan, token: @escaping (String) -> String, log: @escaping (String) -> Void) {
        self.plan = plan
        self.token = token
        self.log = log
    }

    var connections: [BenchConnection] { groups.flatMap(\.members) }

    func run() throws -> Outcome {
        let loadBefore = Self.loadAverage()
        let setupStart = nowNs()
        makeGroups()
        defer { shutdown() }
        try connectAll()
        try setUpGroups()
        let setupSeconds = Double(nowNs() - setupStart) / 1e9
        log("setup: \(connections.count) connections, \(groups.count) groups in \(String(format: "%.1f", setupSeconds)) s")

        var phases: [PhaseTally] = []
        var spans: [(acks: Double, deliveries: Double, cpu: Double?)] = []
        for (index, window) in plan.windows.enumerated() {
            let cpuBefore = plan.gatewayPid.flatMap(Self.cpuSeconds(of:))
            let (tally, seconds, deliverySeconds) = runPhase(index + 1, window: window)
            let cpuAfter = plan.gatewayPid.flatMap(Self.cpuSeconds(of:))
            let cpu = cpuBefore.flatMap { before in cpuAfter.map { $0 - before } }
            phases.append(tally)
            spans.append((seconds, deliverySeconds, cpu))
            log(String(format: "phase W=%d: %d acked in %.1f s (%.0f/s), %d deliveries in %.1f s (%.0f/s), %d errors",
                       window, tally.acked, seconds, seconds > 0 ? Double(tally.acked) / seconds : 0,
                       tally.deliveries, deliverySeconds, deliverySeconds > 0 ? Double(tally.deliveries) / deliverySeconds : 0,
                       tally.errors.values.reduce(0, +)))
        }
        let check = verify(phaseCount: plan.windows.count)
        let results = plan.windows.enumerated().map { index, window in
            PhaseResult(inflight: window, seconds: spans[index].acks, tally: phases[index],
                        deliverySeconds: spans[index].deliveries, gatewayCpuSeconds: spans[index].cpu,
                        ack: Percentiles(nanoseconds: phases[index].ackNs),
                        delivery: Percentiles(nanoseconds: phases[index].deliveryNs),
                        lost: check.lost[index + 1], mismatched: check.mismatched[index + 1],
                        unacknowledgedDeliveries: check.unacknowledged[index + 1])
        }
        let closes = connections.compactMap { c in c.closeDescription.map { "\(c.user): \($0)" } }
        return Outcome(phases: results, setupSeconds: setupSeconds, loadBefore: loadBefore, loadAfter: Self.loadAverage(),
                       closes: closes)
    }

    // MARK: setup

    private func makeGroups() {
        let groupCount = (plan.senders + plan.sendersPerGroup - 1) / plan.sendersPerGroup
        groups = (0..<groupCount).map { g in
            let senders = (g * plan.sendersPerGroup..<min(plan.senders, (g + 1) * plan.sendersPerGroup)).map {
                BenchConnection(role: .sender($0), user: "bench-\(runTag)-s\($0)", runTag: runTag, textBytes: plan.textBytes)
            }
            let receivers = (0..<plan.receiversPerGroup).map {
                BenchConnection(role: .receiver, user: "bench-\(runTag)-r\(g)-\($0)", runTag: runTag, textBytes: plan.textBytes)
            }
            return Group(senders: senders, receivers: receivers)
        }
    }

    private func connectAll() throws {
        var logger = Logger(label: "social.bench")
        logger.logLevel = .error
        let all = connections
        // lws indexes its sockets by descriptor number, which is process-wide:
        // every loop's table must cover all of this program's descriptors.
        loops = try (0..<plan.clientThreads).map { _ in
            try WebSocketClientLoop(deflate: false, maxConnections: all.count + 64, logger: logger)
        }
        for (index, connection) in all.enumerated() {
            var target = plan.target
            if case .receiver = connection.role, let other = plan.receiverTarget { target = other }
            let request = target.request(token: token(connection.user), deviceId: "bench",
                                              allowInsecureTLS: plan.insecure)
            connection.open(on: loops[index % loops.count], request)
        }
        let deadline = Date().addingTimeInterval(30)
        for connection in all { try connection.waitOpen(until: deadline) }
    }

    /// The first sender of each group creates it (open); the others join.
    /// Then every member must see the last join's event: its subscription works.
    private func setUpGroups() throws {
        let failures = FailureBox()
        DispatchQueue.concurrentPerform(iterations: groups.count) { g in
            let group = groups[g]
            do {
                let owner = group.senders[0]
                let created = try owner.call("group.create", args: "{\"title\":\"bench \(runTag) \(g)\",\"open\":true}")
                guard let chat = created.ok?.group else { throw BenchConnection.Failure(description: "group.create: no group") }
                group.chatId = chat.chatId
                group.setupSeq = chat.seq
                for member in group.members.dropFirst() {
                    let joined = try member.call("group.join", args: "{\"group_id\":\"\(chat.chatId)\"}")
                    group.setupSeq = max(group.setupSeq, joined.ok?.group?.seq ?? 0)
                }
            } catch {
                failures.add("\(error)")
            }
        }
        if let first = failures.first { throw BenchConnection.Failure(description: "setup failed: \(first)") }
        let deadline = Date().addingTimeInterval(30)
        for group in groups {
            // A lone owner sees no event after `created`; its reply is its position.
            let members = group.members.count > 1 ? group.members : []
            for member in members where !member.waitPosition(group.setupSeq, until: deadline) {
                throw BenchConnection.Failure(description: "\(member.user) did not receive the events of group setup")
            }
            for member in group.members { member.beginMeasuring(chat: group.chatId, at: group.setupSeq) }
        }
    }

    // MARK: phases

    /// Sends for the duration (or count), then waits for the replies and the deliveries.
    private func runPhase(_ index: Int, window: Int) -> (PhaseTally, Double, Double) {
        let all = connections
        let senders = groups.flatMap(\.senders)
        let start = nowNs()
        for connection in all { connection.startPhase(index, window: window, limit: plan.count) }
        let stopAt = start + UInt64(plan.duration * 1e9)
        while nowNs() < stopAt {
            if plan.count != nil && senders.allSatisfy(\.isQuiet) { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        for sender in senders { sender.stopSending() }
        let drainUntil = nowNs() + UInt64(plan.drainTimeout * 1e9)
        while nowNs() < drainUntil && !senders.allSatisfy(\.isQuiet) { Thread.sleep(forTimeInterval: 0.01) }
        // Every acknowledged message should reach every member of its chat.
        while nowNs() < drainUntil {
            let expected = groups.reduce(0) { sum, group in
                sum + group.senders.reduce(0) { $0 + $1.tally(index).acked } * group.members.count
            }
            if all.reduce(0, { $0 + $1.tally(index).deliveries }) >= expected { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        var total = PhaseTally()
        for connection in all { total.add(connection.finishPhase()) }
        let end = total.lastAckNs > start ? total.lastAckNs : start
        let lastDelivery = total.lastDeliveryNs > start ? total.lastDeliveryNs : start
        return (total, Double(end - start) / 1e9, Double(lastDelivery - start) / 1e9)
    }

    /// User plus system CPU seconds of a process so far (`/proc/<pid>/stat`), nil without /proc.
    static func cpuSeconds(of pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (user + system) / (ticks > 0 ? ticks : 100)
    }

    // MARK: verification

    /// Per phase: acknowledged messages a member never got, deliveries of a
    /// seq acknowledged for another message, deliveries never acknowledged.
    private func verify(phaseCount: Int) -> (lost: [Int], mismatched: [Int], unacknowledged: [Int]) {
        var lost = Array(repeating: 0, count: phaseCount + 1)
        var mismatched = lost
        var unacknowledged = lost
        for group in groups {
            var acked: [Int64: BenchConnection.Ack] = [:]
            for sender in group.senders {
                for ack in sender.record().acks {
                    if acked[ack.seq] != nil { mismatched[ack.phase] += 1 }  // two messages acknowledged at one seq
                    acked[ack.seq] = ack
                }
            }
            for member in group.members {
                let delivered = member.record().delivered
                for (seq, ack) in acked {
                    guard let delivery = delivered[seq] else {
                        lost[ack.phase] += 1
                        continue
                    }
                    if delivery.key != ack.key { mismatched[ack.phase] += 1 }
                }
                for (seq, delivery) in delivered where acked[seq] == nil { unacknowledged[delivery.phase] += 1 }
            }
        }
        return (lost, mismatched, unacknowledged)
    }

    /// The 1, 5 and 15 minute load averages, or "?" where there is no /proc.
    static func loadAverage() -> String {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "?" }
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }

    private func shutdown() {
        let all = connections
        for connection in all { connection.close() }
        Thread.sleep(forTimeInterval: 0.2)
        for loop in loops { loop.shutdown() }
        loops = []
    }
}

/// Errors collected from concurrent setup work. The lock guards `items`, hence @unchecked Sendable.
final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ item: String) { lock.lock(); items.append(item); lock.unlock() }
    var first: String? { lock.lock(); defer { lock.unlock() }; return items.first }
}
