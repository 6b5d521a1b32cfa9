import ArgumentParser
import Foundation
import SocialTesting

/// `social-loadtest`: load scenarios against one or several gateways, with
/// every delivery checked; a summary table, a JSON file and an HTML report.
@main
struct LoadTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "social-loadtest",
        abstract: "Load test of the social gateway: connection storms, chat, fan-out, churn, reconnect storms and bots.",
        discussion: """
            Every run is bounded (duration, drain timeout, setup timeout) and stops by itself. It spreads its \
            connections over worker processes (--per-process each) and over the given --url addresses. Exit \
            status: 0 when every message was delivered exactly once and in order, 2 when a check failed, 1 when \
            the run could not be set up. See loadtest/README.md.
            """)

    @Argument(help: "connect, chat, fanout, churn, reconnect-storm or bots.")
    var scenario: String

    @Option(name: .customLong("url"), help: "Gateway WebSocket URL (ws:// or wss://); repeat to spread connections over several.")
    var urls: [String] = ["ws://127.0.0.1:8080/ws"]

    @Option(help: "HS256 secret the gateway trusts (default: $SOCIAL_LOADTEST_JWT_SECRET, then $SOCIAL_GATEWAY_JWT_SECRET).")
    var jwtSecret: String?

    @Option(help: "Connections (one user, one device each). fanout: the group's members.")
    var connections: Int = 1000

    @Option(help: "New connections per second over all workers; 0: as fast as possible.")
    var connectRate: Double = 1000

    @Option(help: "connect: seconds every connection stays open once all are.")
    var hold: Double = 10

    @Option(help: "Seconds of sending (chat, fanout, churn, reconnect-storm).")
    var duration: Double = 20

    @Option(help: "Messages per second over all senders (fanout: of the one sender).")
    var rate: Double = 100

    @Option(help: "Members per group (chat, churn, reconnect-storm).")
    var groupSize: Int = 10

    @Option(help: "Bytes of each message's text.")
    var textBytes: Int = 100

    @Option(help: "Seconds to wait after sending for replies, deliveries and resyncs.")
    var drainTimeout: Double = 30

    @Option(help: "Seconds allowed to connect everyone and set up the groups.")
    var setupTimeout: Double = 120

    @Option(help: "churn: shortest and longest online period, seconds.")
    var onlineMin: Double = 2
    @Option(help: "churn: longest online period, seconds.")
    var onlineMax: Double = 8
    @Option(help: "churn: shortest offline period, seconds.")
    var offlineMin: Double = 1
    @Option(help: "churn: longest offline period, seconds.")
    var offlineMax: Double = 5

    @Option(help: "reconnect-storm: seconds after sending starts when every client drops (default: a third of --duration).")
    var stormAt: Double?

    @Option(help: "bots: bot accounts the run creates (POST /api/v1/bots); together they send --rate messages per second.")
    var bots: Int = 10

    @Option(help: "bots: chats (groups) each bot is a member of.")
    var botChats: Int = 5

    @Option(help: "bots: the gateway's per-bot message limit (its --rate-bot-messages); --rate / --bots must not exceed it.")
    var botRateLimit: Double = 30

    @Option(help: "Connections per worker process (one process holds at most about 19,900 sockets at an open-file limit of 20,000).")
    var perProcess: Int = 15_000

    @Option(help: "Client service threads per worker process.")
    var clientThreads: Int = 2

    @Flag(help: "Accept a self-signed or otherwise untrusted certificate (wss).")
    var insecure = false

    @Option(name: .customLong("gateway-pid"), help: "PID of a local gateway to sample from /proc (memory per connection, CPU per delivery); repeatable.")
    var gatewayPids: [Int32] = []

    @Option(help: "Write the JSON results here (default: loadtest-<scenario>.json).")
    var json: String?

    @Option(help: "Write the HTML report here (default: loadtest-<scenario>.html).")
    var html: String?

    @Option(help: "A label for the report, e.g. the gateway commit and setup.")
    var label: String = ""

    @Option(help: .hidden) var workerPlan: String?
    @Option(help: .hidden) var workerIndex: Int?

    func run() async throws {
        if let workerPlan, let workerIndex {
            let plan = try JSONDecoder().decode(Plan.self, from: Data(contentsOf: URL(fileURLWithPath: workerPlan)))
            let minter = try await TokenMinter.make(secret: plan.secret)
            let result: Result<Void, any Error> = await withCheckedContinuation { done in
                Thread.detachNewThread { done.resume(returning: Result { try Worker(plan: plan, index: workerIndex).run(minter: minter) }) }
            }
            if case .failure(let error) = result {
                progress("social-loadtest worker \(workerIndex): \(error)")
                throw ExitCode(1)
            }
            return
        }
        var plan = try makePlan()
        var provisioner: BotProvisioner?
        if plan.scenario == .bots {
            let admin = try await TokenMinter.make(secret: plan.secret)
            let bots = try BotProvisioner(url: plan.urls[0], token: admin.token(user: "\(plan.runTag)-admin", extra: ["scope": "social:admin"]))
            progress("creating \(plan.bots) bot accounts through \(bots.endpoint)")
            let (count, prefix) = (plan.bots, "loadtest \(plan.runTag)")
            switch await onThread({ try bots.create(count: count, namePrefix: prefix, log: progress) }) {
            case .success(let accounts): plan.botAccounts = accounts
            case .failure(let error):
                progress("social-loadtest: \(error)")
                throw ExitCode(1)
            }
            provisioner = bots
        }
        progress("social-loadtest \(plan.scenario.rawValue): \(plan.connections) connections over \(plan.workers) worker process(es), \(plan.urls.joined(separator: " "))")
        let coordinator = Coordinator(plan: plan, gatewayPids: gatewayPids, log: progress)
        let result: Result<Coordinator.Outcome, any Error> = await withCheckedContinuation { done in
            Thread.detachNewThread { done.resume(returning: Result { try coordinator.run() }) }
        }
        let outcome: Coordinator.Outcome
        switch result {
        case .success(let value): outcome = value
        case .failure(let error):
            progress("social-loadtest: \(error)")
            throw ExitCode(1)
        }
        if let provisioner {
            // The run's bots are disabled once it is over: their secrets die with the run.
            let ids = plan.botAccounts.map(\.id)
            _ = await onThread { provisioner.disable(ids, log: progress) }
        }
        let report = RunReport(plan: plan, outcome: outcome, label: label, date: Date())
        print(report.table())
        let jsonPath = json ?? "loadtest-\(plan.scenario.rawValue).json"
        let htmlPath = html ?? "loadtest-\(plan.scenario.rawValue).html"
        try report.json().write(to: URL(fileURLWithPath: jsonPath))
        try Data(report.html().utf8).write(to: URL(fileURLWithPath: htmlPath))
        progress("wrote \(jsonPath) and \(htmlPath)")
        if !report.verified { throw ExitCode(2) }
    }

    private func makePlan() throws -> Plan {
        guard let kind = Plan.Scenario(rawValue: scenario) else {
            throw ValidationError("unknown scenario \(scenario); one of \(Plan.Scenario.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let env = ProcessInfo.processInfo.environment
        guard let secret = jwtSecret ?? env["SOCIAL_LOADTEST_JWT_SECRET"] ?? env["SOCIAL_GATEWAY_JWT_SECRET"] else {
            throw ValidationError("give --jwt-secret (or SOCIAL_LOADTEST_JWT_SECRET): the HS256 secret the gateway trusts")
        }
        for url in urls { _ = try GatewayTarget(url: url) }
        guard connections >= 1, groupSize >= 1, perProcess >= 1, clientThreads >= 1, textBytes >= 40, textBytes <= 4096 else {
            throw ValidationError("--connections, --group-size, --per-process, --client-threads must be ≥ 1; --text-bytes 40…4096")
        }
        guard duration > 0, hold >= 0, rate >= 0, connectRate >= 0, drainTimeout > 0, setupTimeout > 0,
              onlineMin > 0, onlineMin <= onlineMax, offlineMin > 0, offlineMin <= offlineMax else {
            throw ValidationError("durations and rates must be positive, and each min ≤ its max")
        }
        guard duration + hold + drainTimeout <= 3600 else { throw ValidationError("a run lasts at most an hour (--duration + --hold + --drain-timeout)") }
        var perWorker = min(perProcess, connections)
        switch kind {
        case .fanout:
            guard connections >= 2, connections <= perProcess else {
                throw ValidationError("fanout: 2 ≤ --connections ≤ --per-process (the group lives in one worker process)")
            }
        case .chat, .churn, .reconnectStorm, .bots:
            guard groupSize <= perProcess else { throw ValidationError("--group-size must not exceed --per-process") }
            perWorker -= perWorker % groupSize  // whole groups per worker
            if perWorker == 0 { perWorker = groupSize }
        case .connect:
            break
        }
        let workers = (connections + perWorker - 1) / perWorker
        if kind == .bots {
            try validateBots(workers: workers, perWorker: perWorker)
        }
        let tag = "lt" + String(UUID().uuidString.prefix(8)).lowercased()
        return Plan(
            scenario: kind, urls: urls, secret: secret, runTag: tag, connections: connections, connectRate: connectRate,
            hold: kind == .connect ? hold : 0, duration: kind == .connect ? 0 : duration, rate: rate, groupSize: groupSize,
            textBytes: textBytes, drainTimeout: drainTimeout, setupTimeout: setupTimeout, onlineMin: onlineMin,
            onlineMax: onlineMax, offlineMin: offlineMin, offlineMax: offlineMax, stormAt: stormAt ?? duration / 3,
            clientThreads: clientThreads, insecure: insecure, workers: workers,
            perWorker: perWorker, bots: kind == .bots ? bots : 0, botChats: kind == .bots ? botChats : 0,
            botRateLimit: kind == .bots ? botRateLimit : 0)
    }

    /// `bots`: every bot's chats must lie in its own worker's share, and no bot may be asked to
    /// send faster than the gateway lets it (it would get `rate_limited` errors, not a measurement).
    private func validateBots(workers: Int, perWorker: Int) throws {
        guard bots >= 1, botChats >= 1, botRateLimit > 0 else {
            throw ValidationError("bots: --bots and --bot-chats must be ≥ 1, --bot-rate-limit > 0")
        }
        let perBot = rate / Double(bots)
        guard perBot <= botRateLimit else {
            throw ValidationError(String(format: "bots: --rate %.0f over --bots %d is %.1f messages/s per bot, above --bot-rate-limit %.0f "
                + "(the gateway's --rate-bot-messages, default 30/s): add bots, lower --rate, or start the gateway "
                + "with a higher --rate-bot-messages and pass the same value as --bot-rate-limit", rate, bots, perBot, botRateLimit))
        }
        let target = try GatewayTarget(url: urls[0])
        guard !target.tls, BotProvisioner.isIPv4(target.host) else {
            throw ValidationError("bots: the first --url must be ws:// to an IPv4 address: the driver creates its bots through that gateway's HTTP API over plain HTTP")
        }
        for w in 0..<workers {
            let groupsHere = (min(connections, (w + 1) * perWorker) - min(connections, w * perWorker) + groupSize - 1) / groupSize
            if groupsHere < botChats && Array(stride(from: w, to: bots, by: workers)).count > 0 {
                throw ValidationError("bots: worker \(w) holds \(groupsHere) chats, fewer than --bot-chats \(botChats) (a bot's chats lie in one worker process): raise --connections or lower --bot-chats")
            }
        }
    }
}

/// Runs blocking work (sockets, waits) on a thread of its own, never on Swift's cooperative pool.
func onThread<T>(_ body: @escaping () throws -> T) async -> Result<T, any Error> {
    await withCheckedContinuation { done in
        Thread.detachNewThread { done.resume(returning: Result { try body() }) }
    }
}

/// Progress and problems go to stderr; the summary table goes to stdout.
func progress(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
