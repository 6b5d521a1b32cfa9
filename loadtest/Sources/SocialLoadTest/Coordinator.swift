import Foundation
import SocialTesting

/// Starts the worker processes (this program again, in worker mode), starts
/// them together once all are set up, prints progress once a second, samples
/// the gateway processes it was given, and merges the workers' results.
final class Coordinator {
    private let plan: Plan
    private let gatewayPids: [Int32]
    private let log: (String) -> Void

    struct Outcome {
        var tally = Tally()
        var timeline: [Second] = []
        var gateway: GatewayFigures?
        var setupSeconds = 0.0
        var runSeconds = 0.0
        var workerFailures: [String] = []
    }

    /// One worker process and what it said last. `lock` guards the `var`s
    /// (its reader thread writes them), hence `@unchecked Sendable`.
    final class WorkerProcess: @unchecked Sendable {
        let process = Process()
        let input = Pipe()
        let output = Pipe()
        let lock = NSCondition()
        var ready = false
        var progress: [String: Any] = [:]
        var result: WorkerResult?
        var ended = false

        func locked<T>(_ body: () -> T) -> T { lock.lock(); defer { lock.unlock() }; return body() }
    }

    init(plan: Plan, gatewayPids: [Int32], log: @escaping (String) -> Void) {
        self.plan = plan
        self.gatewayPids = gatewayPids
        self.log = log
    }

    func run() throws -> Outcome {
        let planPath = NSTemporaryDirectory() + "/social-loadtest-\(plan.runTag).json"
        try JSONEncoder().encode(plan).write(to: URL(fileURLWithPath: planPath))
        defer { try? FileManager.default.removeItem(atPath: planPath) }
        let baseline = sampleGateways()
        let setupStart = Date()
        let workers = try (0..<plan.workers).map { try spawn(index: $0, planPath: planPath) }
        defer { for w in workers where w.process.isRunning { w.process.terminate() } }
        var outcome = Outcome()

        // Every worker connects and sets up its groups; then all start together.
        let setupDeadline = Date().addingTimeInterval(plan.setupTimeout * 3 + Double(plan.connections) / max(1, plan.connectRate))
        var lastLine = Date()
        while !workers.allSatisfy({ w in w.locked { w.ready } }) {
            if let dead = workers.first(where: { w in w.locked { w.ended && !w.ready } }) {
                throw LoadTestError("worker \(workers.firstIndex { $0 === dead }!) exited during setup (status \(dead.process.terminationStatus))")
            }
            guard Date() < setupDeadline else { throw LoadTestError("setup did not finish in time") }
            if Date().timeIntervalSince(lastLine) >= 1 {
                lastLine = Date()
                let open = workers.reduce(0) { sum, w in sum + (w.locked { w.progress["open"] as? Int } ?? 0) }
                log(String(format: "setup %4.0fs  open %d/%d", Date().timeIntervalSince(setupStart), open, plan.connections))
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        outcome.setupSeconds = Date().timeIntervalSince(setupStart)
        log(String(format: "setup done in %.1f s: %d connections", outcome.setupSeconds, plan.scenario == .connect ? 0 : plan.connections))

        let atGo = sampleGateways()
        var peakRSS = atGo.map(\.rssBytes)
        let go = Date()
        for w in workers { w.input.fileHandleForWriting.write(Data("go\n".utf8)) }
        let runDeadline = go.addingTimeInterval(plan.hold + plan.duration + plan.drainTimeout * 3 + 60)
        var previous = (sent: 0, acked: 0, delivered: 0)
        while !workers.allSatisfy({ w in w.locked { w.ended } }) && Date() < runDeadline {
            Thread.sleep(forTimeInterval: 1)
            let now = sampleGateways()
            for (i, s) in now.enumerated() where i < peakRSS.count { peakRSS[i] = max(peakRSS[i], s.rssBytes) }
            var open = 0, sent = 0, acked = 0, delivered = 0, errors = 0
            for w in workers {
                w.lock.lock()
                open += w.progress["open"] as? Int ?? 0
                sent += w.progress["sent"] as? Int ?? 0
                acked += w.progress["acked"] as? Int ?? 0
                delivered += w.progress["delivered"] as? Int ?? 0
                errors += w.progress["errors"] as? Int ?? 0
                w.lock.unlock()
            }
            let rss = now.map { String(format: "  gw %.0f MiB %.1f cpu-s", Double($0.rssBytes) / 1_048_576, $0.cpuSeconds) }.joined()
            log(String(format: "t=%4.0fs open %6d  sent/s %6d  acks/s %6d  deliveries/s %7d  errors %d",
                       Date().timeIntervalSince(go), open, sent - previous.sent, acked - previous.acked,
                       delivered - previous.delivered, errors) + rss)
            previous = (sent, acked, delivered)
        }
        outcome.runSeconds = Date().timeIntervalSince(go)
        let atEnd = sampleGateways()
        for (i, w) in workers.enumerated() {
            w.lock.lock()
            let result = w.result
            w.lock.unlock()
            guard let result else {
                outcome.workerFailures.append("worker \(i) gave no result (status \(w.process.isRunning ? "still running" : "\(w.process.terminationStatus)"))")
                continue
            }
            outcome.tally.add(result.tally)
            if outcome.timeline.count < result.timeline.count {
                outcome.timeline += repeatElement(Second(), count: result.timeline.count - outcome.timeline.count)
            }
            for (s, second) in result.timeline.enumerated() { outcome.timeline[s].add(second) }
        }
        if !gatewayPids.isEmpty, baseline.count == gatewayPids.count, atGo.count == gatewayPids.count, atEnd.count == gatewayPids.count {
            outcome.gateway = GatewayFigures(
                pids: gatewayPids.map(Int.init), baselineRSS: baseline.map(\.rssBytes), peakRSS: peakRSS,
                cpuSecondsRun: zip(atGo, atEnd).reduce(0) { $0 + $1.1.cpuSeconds - $1.0.cpuSeconds },
                connections: outcome.timeline.map(\.open).max().flatMap { $0 > 0 ? $0 : nil } ?? plan.connections,
                deliveries: outcome.tally.delivered)
        }
        return outcome
    }

    private func sampleGateways() -> [GatewaySample] { gatewayPids.compactMap { GatewaySample.read(pid: $0) } }

    private func spawn(index: Int, planPath: String) throws -> WorkerProcess {
        let w = WorkerProcess()
        w.process.executableURL = URL(fileURLWithPath: Self.executablePath)
        w.process.arguments = [plan.scenario.rawValue, "--worker-plan", planPath, "--worker-index", String(index)]
        w.process.standardInput = w.input
        w.process.standardOutput = w.output
        w.process.standardError = FileHandle.standardError
        try w.process.run()
        let log = self.log
        Thread.detachNewThread {
            let handle = w.output.fileHandleForReading
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = pending[pending.startIndex..<newline]
                    pending = Data(pending[pending.index(after: newline)...])
                    guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else {
                        log("worker \(index): \(String(decoding: line, as: UTF8.self))")
                        continue
                    }
                    w.lock.lock()
                    switch object["t"] as? String {
                    case "ready": w.ready = true
                    case "progress": w.progress = object
                    case "result":
                        if let text = object["result"] as? String {
                            w.result = try? JSONDecoder().decode(WorkerResult.self, from: Data(text.utf8))
                        }
                    default: break
                    }
                    w.lock.unlock()
                }
            }
            w.process.waitUntilExit()
            w.lock.lock(); w.ended = true; w.lock.unlock()
        }
        return w
    }

    /// This program's own binary, to run again as a worker.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

/// What the coordinator read from `/proc` about the gateway processes.
struct GatewayFigures: Codable {
    var pids: [Int]
    var baselineRSS: [Int]
    var peakRSS: [Int]
    /// CPU seconds of all given gateways from the start signal to the end of the run.
    var cpuSecondsRun: Double
    /// The most connections open in any second of the run (what the peak memory held).
    var connections: Int
    var deliveries: Int

    /// Peak resident memory above the baseline (before any connection), per connection open at the peak.
    var rssPerConnection: Double {
        connections > 0 ? Double(zip(peakRSS, baselineRSS).reduce(0) { $0 + $1.0 - $1.1 }) / Double(connections) : 0
    }

    var cpuSecondsPerMillionDeliveries: Double? {
        deliveries > 0 ? cpuSecondsRun / Double(deliveries) * 1_000_000 : nil
    }
}
