import Foundation

/// What a run does. The coordinator writes it to a file that every worker
/// process reads, so that all of them run the same plan on their share of the
/// users. Times are seconds.
struct Plan: Codable {
    enum Scenario: String, Codable, CaseIterable {
        case connect, chat, fanout, churn
        case reconnectStorm = "reconnect-storm"
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
        case .chat, .churn, .reconnectStorm: return groupSize
        }
    }

    /// Whether clients send at all.
    var sends: Bool { scenario != .connect && rate > 0 }

    func userId(_ index: Int) -> String { "\(runTag)-u\(index)" }
}
