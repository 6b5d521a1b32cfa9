import Foundation
import SocialLWS
import SocialTesting

/// Setup: connections, groups, joins and bots, before the start signal.
extension Worker {
    /// Opens `subset` (default: every client) at this worker's share of the connect rate and waits for them.
    func connectAll(phase: String, _ subset: [LoadClient]? = nil) throws {
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
            if !targets.contains(where: \.isConnecting) {
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
    func disconnectAll(_ subset: [LoadClient]) {
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
    func setUpGroups() throws {
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
    func setUpBots(seqs: SeqBox, failures: FailureList) throws {
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
    func join(_ member: LoadClient, _ g: Int, attempt: Int, seqs: SeqBox, failures: FailureList, done: DispatchGroup) {
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

    func setChat(_ g: Int, _ id: String) { chatLock.lock(); groups[g].chatId = id; chatLock.unlock() }
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
