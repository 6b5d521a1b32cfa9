import Foundation
import SocialLWS
import SocialTesting

/// Sending, the scenarios' offline periods and storms, and the drain.
extension Worker {
    func sendPhase() {
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
    func botSendPhase() {
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
    func acked(in group: Group) -> Int {
        (group.members + bots).reduce(0) { sum, client in
            sum + (client.chatSnapshot().first { $0.chatId == group.chatId }?.acked ?? 0)
        }
    }

    /// Every client drops at once and comes back (at the connect rate, 0: all at once) and resyncs.
    func storm(at now: UInt64) {
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

    /// Clients that should be online but whose connection failed or dropped reconnect after a second.
    func retryDropped(online: [Bool], at now: UInt64) {
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
    func stormResync(since start: UInt64) {
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
    func drain() {
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

    func settled() -> Bool {
        guard clients.allSatisfy({ $0.inflightCount == 0 && !$0.isSyncing }), bots.allSatisfy({ $0.inflightCount == 0 }) else { return false }
        for group in groups {
            let tracks = group.members.compactMap { $0.chatSnapshot().first { $0.chatId == group.chatId } }
            let acked = acked(in: group)
            if tracks.contains(where: { $0.applied < acked }) { return false }
        }
        return true
    }
}
