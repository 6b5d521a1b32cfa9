import Foundation

/// What a run does. The coordinator writes it to a file that every worker
/// process reads, so that all of them run the same plan on their share of the
/// users. Times are seconds.
struct Plan: Codable {
    enum Scenario: String, Codable, CaseIterable {
        case connect, chat, fanout, churn
        case reconnectStorm = "reconnect-storm"
        case bots
    }

    /// A bot account the coordinator created for this run (`POST /api/v1/bots`).
    struct BotAccount: Codable {
        var id: String
        var secret: String
    }

    var scenario: Scenario
    var urls: [String]
    var secret: String
    /// Prefix of this run's user ids and client_msg_ids.
    var runTag: String
    var connections: Int
    /// New connections per second over all workers (0: as fast as possible).
    var connectRate: Double
    /// `connect`: how long every connection stays open once all are.
    var hold: Double
    /// Seconds of sending.
    var duration: Double
    /// Messages per second over all workers.
    var rate: Double
    var groupSize: Int
    var textBytes: Int
    var drainTimeout: Double
    var setupTimeout: Double
    var onlineMin: Double
    var onlineMax: Double
    var offlineMin: Double
    var offlineMax: Double
    /// `reconnect-storm`: when every client drops, seconds after sending began.
    var stormAt: Double
    var clientThreads: Int
    var insecure: Bool
    var workers: Int
    /// Connections per worker process (the last one may have fewer).
    var perWorker: Int
    /// `bots`: bot accounts, the chats each one is a member of, and the
    /// gateway's per-bot message limit the plan was checked against.
    var bots = 0
    var botChats = 0
    var botRateLimit = 0.0
    /// Filled in by the coordinator before the workers start; never written to a report.
    var botAccounts: [BotAccount] = []

    /// The users (global indices) worker `w` drives. Groups never span
    /// workers: a worker's share is a whole number of groups.
    func users(ofWorker w: Int) -> Range<Int> {
        let start = min(connections, w * perWorker)
        return start..<min(connections, start + perWorker)
    }

    /// Users per group in this scenario (`connect` has no groups).
    var membersPerGroup: Int {
        switch scenario {
        case .connect: return 0
        case .fanout: return connections
        case .chat, .churn, .reconnectStorm, .bots: return groupSize
        }
    }

    /// `bots`: the bots (global indices) worker `w` drives: every `workers`-th
    /// one, so that each worker's bots post into that worker's own chats.
    func bots(ofWorker w: Int) -> [Int] { Array(stride(from: w, to: bots, by: max(1, workers))) }

    /// Groups worker `w` holds (the last one may be smaller than `groupSize`).
    func groupCount(ofWorker w: Int) -> Int { (users(ofWorker: w).count + groupSize - 1) / groupSize }

    /// `bots`: the groups (indices within its worker) the worker's `local`-th bot is a member of:
    /// `botChats` consecutive ones, wrapping, so that the bots cover the chats evenly.
    func groupsOfBot(local: Int, groupCount: Int) -> [Int] {
        (0..<botChats).map { (local * botChats + $0) % groupCount }
    }

    /// Messages per second each bot sends.
    var ratePerBot: Double { bots > 0 ? rate / Double(bots) : 0 }

    /// Whether clients send at all.
    var sends: Bool { scenario != .connect && rate > 0 }

    func userId(_ index: Int) -> String { "\(runTag)-u\(index)" }
}
