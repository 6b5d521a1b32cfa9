import ArgumentParser
import Foundation
import SocialTesting

/// `social-bench`: stored-and-acknowledged sends per second and send →
/// delivery latency of a gateway, with every delivery checked. A program
/// that prints figures, not a test.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "social-bench",
        abstract: "Chat benchmark of the social gateway: sends/s, ack and delivery latency, delivery checks.",
        discussion: """
            Each sender connection (a distinct user) keeps W chat.send commands in flight; receiver connections
            (other members of the same groups) time the message.new events. One phase runs per value of --inflight.
            Every acknowledged message must reach every member connection exactly once, with gap-free increasing
            seqs: the exit status is 2 when that check fails, 1 when the run could not be set up.
            Only loopback gateways are accepted.
            """)

    @Option(help: "WebSocket URL of a running gateway (loopback only), e.g. ws://127.0.0.1:8080/ws.")
    var url: String?

    @Option(help: "HS256 secret the running gateway trusts, to mint tokens. $SOCIAL_BENCH_SECRET")
    var secret: String?

    @Flag(help: "Start a gateway (embedded store, fresh data dir) for the run and stop it after.")
    var spawn = false

    @Option(help: "Gateway binary for --spawn. Default: $SOCIAL_GATEWAY_BIN, else social-gateway beside this program.")
    var gatewayBin: String?

    @Option(parsing: .unconditionalSingleValue, help: "Extra flag for the spawned gateway (repeatable), e.g. --gateway-arg=--max-inflight=128.")
    var gatewayArg: [String] = []

    @Flag(help: "Keep the spawned gateway's data dir.")
    var keepData = false

    @Option(help: "Sender connections, one user each.")
    var senders = 64

    @Option(help: "Senders per group: 1 gives each sender its own group; more share groups.")
    var sendersPerGroup = 1

    @Option(help: "Receiver connections per group (other users, members of the group).")
    var receivers = 1

    @Option(help: "Comma-separated chat.send commands in flight per sender; one phase each. The gateway answers 'overloaded' beyond its --max-inflight (default 64).")
    var inflight = "1,4,8"

    @Option(help: "Seconds each phase sends for (1-600).")
    var duration: Double = 10

    @Option(help: "Messages per sender per phase; the phase ends at this count or --duration, whichever comes first.")
    var count: Int?

    @Option(help: "Bytes of each message's text (40-4096).")
    var textBytes = 64

    @Option(help: "Seconds to wait, after a phase, for its replies and deliveries.")
    var drainTimeout: Double = 10

    @Option(help: "Client I/O threads (libwebsockets loops) of this program.")
    var clientThreads = 2

    @Flag(help: "Accept a self-signed certificate (wss).")
    var insecure = false

    @Option(help: "Also write the figures as JSON to this file.")
    var json: String?

    var windows: [Int] { inflight.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
    var resolvedSecret: String? { secret ?? ProcessInfo.processInfo.environment["SOCIAL_BENCH_SECRET"] }

    func validate() throws {
        guard spawn != (url != nil) else { throw ValidationError("give either --url (with --secret) or --spawn") }
        if let url {
            let target: GatewayTarget
            do { target = try GatewayTarget(url: url) } catch { throw ValidationError("--url: \(error)") }
            guard Self.isLoopback(target.host) else { throw ValidationError("--url must be a loopback address") }
            guard let secret = resolvedSecret, secret.utf8.count >= 32 else {
                throw ValidationError("--url needs --secret (or $SOCIAL_BENCH_SECRET), at least 32 bytes")
            }
        }
        let windows = windows
        guard !windows.isEmpty, windows.count == inflight.split(separator: ",").count, windows.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("--inflight: comma-separated positive integers")
        }
        guard senders >= 1, sendersPerGroup >= 1, receivers >= 0, clientThreads >= 1 else {
            throw ValidationError("--senders, --senders-per-group, --client-threads ≥ 1; --receivers ≥ 0")
        }
        guard (1...600).contains(duration), drainTimeout >= 0, count.map({ $0 >= 1 }) ?? true else {
            throw ValidationError("--duration 1-600 s, --drain-timeout ≥ 0, --count ≥ 1")
        }
        guard (40...4096).contains(textBytes) else { throw ValidationError("--text-bytes must be 40-4096") }
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    func run() async throws {
        let secret = spawn ? Self.randomSecret() : resolvedSecret!
        let minter = try await TokenMinter.make(secret: secret)
        var gateway: GatewayProcess?
        let target: GatewayTarget
        if spawn {
            let binary = gatewayBinary()
            setenv("SOCIAL_GATEWAY_BIN", binary, 1)  // GatewayProcess reads it
            progress("starting \(binary)")
            do {
                gateway = try GatewayProcess.start(secret: secret, arguments: ["--store", "embedded", "--log-level", "warning"] + gatewayArg)
            } catch {
                throw ValidationError("cannot start the gateway: \(error)")
            }
            target = try GatewayTarget(url: "ws://127.0.0.1:\(gateway!.port)/ws")
        } else {
            target = try GatewayTarget(url: url!)
        }
        let plan = BenchRunner.Plan(
            target: target, senders: senders, sendersPerGroup: sendersPerGroup, receiversPerGroup: receivers,
            windows: windows, duration: duration, count: count, textBytes: textBytes, drainTimeout: drainTimeout,
            clientThreads: clientThreads, insecure: insecure)
        let runner = BenchRunner(plan: plan, token: { minter.token(user: $0, ttl: 86_400) }, log: progress)
        // The runner blocks: give it its own thread, not the cooperative pool.
        let result = await withCheckedContinuation { (done: CheckedContinuation<Result<BenchRunner.Outcome, any Error>, Never>) in
            Thread.detachNewThread { done.resume(returning: Result { try runner.run() }) }
        }
        if let gateway {
            if gateway.stop() != 0 { progress("the gateway did not stop cleanly; its log: \(gateway.logPath)") }
            if !keepData { try? FileManager.default.removeItem(atPath: gateway.dataDir) }
        }
        let outcome: BenchRunner.Outcome
        switch result {
        case .success(let value): outcome = value
        case .failure(let error):
            progress("social-bench: \(error)")
            if let gateway { progress("gateway log: \(gateway.logPath)") }
            throw ExitCode(1)
        }
        let report = Report(config: config(target: target, gateway: gateway),
                            settings: settings(target: target, gateway: gateway), outcome: outcome)
        print(report.table())
        if let json { try report.json().write(to: URL(fileURLWithPath: json)) }
        if report.problems > 0 { throw ExitCode(2) }
    }

    private func config(target: GatewayTarget, gateway: GatewayProcess?) -> [(String, String)] {
        let groups = (senders + sendersPerGroup - 1) / sendersPerGroup
        return [
            ("gateway", gateway == nil ? "\(target)" : "\(target), spawned: \(gatewayBinary())"),
            ("store", gateway != nil ? "\(spawnedStore) (fresh data dir)" : "as the running gateway is configured"),
            ("senders", "\(senders) connections, \(sendersPerGroup) per group"),
            ("groups", "\(groups), \(receivers) receiver connection(s) each"),
            ("connections", "\(groups * receivers + senders)"),
            ("phases", "W = \(inflight), each \(count.map { "\($0) messages per sender or " } ?? "")\(duration) s"),
            ("text", "\(textBytes) bytes"),
            ("client threads", "\(clientThreads) (this program), \(ProcessInfo.processInfo.activeProcessorCount) cores shared with the gateway"),
        ]
    }

    private func settings(target: GatewayTarget, gateway: GatewayProcess?) -> [String: Any] {
        var settings: [String: Any] = [
            "url": "\(target)", "senders": senders, "senders_per_group": sendersPerGroup,
            "groups": (senders + sendersPerGroup - 1) / sendersPerGroup, "receivers_per_group": receivers,
            "inflight": windows, "duration_s": duration, "text_bytes": textBytes, "client_threads": clientThreads,
            "cores": ProcessInfo.processInfo.activeProcessorCount,
            "store": gateway != nil ? spawnedStore : "unknown (running gateway)",
        ]
        if let count { settings["count"] = count }
        if gateway != nil { settings["gateway_binary"] = gatewayBinary(); settings["gateway_args"] = gatewayArg }
        return settings
    }

    /// The spawned gateway's store: embedded unless a --gateway-arg says otherwise.
    private var spawnedStore: String {
        var store = "embedded"
        for (index, arg) in gatewayArg.enumerated() {
            if arg.hasPrefix("--store=") { store = String(arg.dropFirst("--store=".count)) }
            if arg == "--store", index + 1 < gatewayArg.count { store = gatewayArg[index + 1] }
        }
        return store
    }

    /// `--gateway-bin`, `$SOCIAL_GATEWAY_BIN`, `social-gateway` beside this program, else the debug build.
    private func gatewayBinary() -> String {
        if let gatewayBin { return gatewayBin }
        if let fromEnv = ProcessInfo.processInfo.environment["SOCIAL_GATEWAY_BIN"] { return fromEnv }
        if let own = Bundle.main.executableURL {
            let sibling = own.deletingLastPathComponent().appendingPathComponent("social-gateway").path
            if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
        }
        return GatewayProcess.binaryPath
    }

    private static func randomSecret() -> String {
        (0..<48).map { _ in String("0123456789abcdef".randomElement()!) }.joined()
    }
}

/// Progress and problems go to stderr; the figures alone go to stdout.
func progress(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
