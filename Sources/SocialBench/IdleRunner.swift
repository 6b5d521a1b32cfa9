import Foundation
import Logging
import SocialLWS
import SocialTesting

/// `--idle N`: opens N authenticated connections (one user each) as fast as
/// the client loops go, keeps them idle, and measures the connection rate and
/// what a connection costs the gateway in resident memory (`/proc/<pid>/status`).
/// Runs on its own thread (it blocks); the loops do the I/O.
final class IdleRunner {
    struct Outcome {
        var connections: Int
        var seconds: Double
        var rssBefore: Int?
        var rssAfter: Int?
        var failures: [String]
        var loadBefore: String
        var loadAfter: String

        var perSecond: Double { seconds > 0 ? Double(connections) / seconds : 0 }
        /// Resident bytes per open connection above the gateway's baseline.
        var bytesPerConnection: Double? {
            guard let rssBefore, let rssAfter, connections > 0 else { return nil }
            return Double(rssAfter - rssBefore) / Double(connections)
        }
    }

    private let target: GatewayTarget
    private let count: Int
    private let clientThreads: Int
    private let insecure: Bool
    private let gatewayPid: Int32?
    private let token: (String) -> String
    private let log: (String) -> Void

    init(target: GatewayTarget, count: Int, clientThreads: Int, insecure: Bool, gatewayPid: Int32?,
         token: @escaping (String) -> String, log: @escaping (String) -> Void) {
        self.target = target
        self.count = count
        self.clientThreads = clientThreads
        self.insecure = insecure
        self.gatewayPid = gatewayPid
        self.token = token
        self.log = log
    }

    func run() throws -> Outcome {
        let runTag = String(UUID().uuidString.prefix(8)).lowercased()
        var logger = Logger(label: "social.bench")
        logger.logLevel = .error
        // lws indexes its sockets by descriptor number, which is process-wide:
        // every loop's table must cover all of this program's descriptors.
        let loops = try (0..<clientThreads).map { _ in
            try WebSocketClientLoop(deflate: false, maxConnections: count + 64, logger: logger)
        }
        defer { for loop in loops { loop.shutdown() } }
        // Tokens first: minting is this program's work, not the gateway's.
        let requests = (0..<count).map { index in
            target.request(token: token("idle-\(runTag)-\(index)"), deviceId: "idle", allowInsecureTLS: insecure)
        }
        let connections = (0..<count).map {
            BenchConnection(role: .receiver, user: "idle-\(runTag)-\($0)", runTag: runTag, textBytes: 64)
        }
        let loadBefore = BenchRunner.loadAverage()
        let rssBefore = gatewayPid.flatMap(Self.residentBytes(of:))
        let start = nowNs()
        var failures: [String] = []
        // At most `handshakeWindow` handshakes at once (a wave waits for the one
        // before): tens of thousands of SYNs at once overflow the listen backlog
        // and outlast the gateway's --handshake-timeout on a loaded machine.
        for wave in stride(from: 0, to: count, by: Self.handshakeWindow) {
            let members = wave..<min(count, wave + Self.handshakeWindow)
            for index in members { connections[index].open(on: loops[index % loops.count], requests[index]) }
            let deadline = Date().addingTimeInterval(30)
            for index in members {
                do { try connections[index].waitOpen(until: deadline) } catch { failures.append("\(error)") }
            }
        }
        let seconds = Double(nowNs() - start) / 1e9
        log(String(format: "idle: %d connections open in %.2f s, %d failed; settling 3 s", count - failures.count, seconds, failures.count))
        Thread.sleep(forTimeInterval: 3)  // hello and the subscription load finish; the gateway settles
        let rssAfter = gatewayPid.flatMap(Self.residentBytes(of:))
        let loadAfter = BenchRunner.loadAverage()
        for connection in connections { connection.close() }
        Thread.sleep(forTimeInterval: 1)
        return Outcome(connections: count - failures.count, seconds: seconds, rssBefore: rssBefore, rssAfter: rssAfter,
                       failures: failures, loadBefore: loadBefore, loadAfter: loadAfter)
    }

    static let handshakeWindow = 500

    /// `VmRSS` of a process in bytes, nil without /proc.
    static func residentBytes(of pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return nil }
        return kib * 1024
    }

    static func table(_ outcome: Outcome) -> String {
        var lines = ["social-bench --idle"]
        lines.append("  load average       \(outcome.loadBefore) before, \(outcome.loadAfter) after")
        lines.append(String(format: "  connections        %d open (%d failed) in %.2f s: %.0f connections/s",
                            outcome.connections, outcome.failures.count, outcome.seconds, outcome.perSecond))
        if let before = outcome.rssBefore, let after = outcome.rssAfter, let per = outcome.bytesPerConnection {
            lines.append(String(format: "  gateway RSS        %.1f MiB before, %.1f MiB with the connections open: %.0f bytes (%.2f KiB) per connection",
                                Double(before) / 1_048_576, Double(after) / 1_048_576, per, per / 1024))
        } else {
            lines.append("  gateway RSS        unknown (give --gateway-pid, or --spawn)")
        }
        for failure in outcome.failures.prefix(5) { lines.append("  failed: \(failure)") }
        return lines.joined(separator: "\n")
    }
}
