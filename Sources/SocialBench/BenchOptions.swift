import ArgumentParser
import Foundation
import SocialTesting

/// The flags of `social-bench`.
struct BenchOptions: ParsableArguments {
    @Option(help: "WebSocket URL of a running gateway (loopback only), e.g. ws://127.0.0.1:8080/ws.")
    var url: String?

    @Option(help: "WebSocket URL of another node of the same deployment for the receivers (loopback only): measures delivery across nodes through the bus. Default: --url.")
    var receiverUrl: String?

    @Option(help: "HS256 secret the running gateway trusts, to mint tokens. $SOCIAL_BENCH_SECRET")
    var secret: String?

    @Flag(help: "Start a gateway (embedded store, fresh data dir) for the run and stop it after.")
    var spawn = false

    @Option(help: "Gateway binary for --spawn. Default: $SOCIAL_GATEWAY_BIN, else social-gateway beside this program.")
    var gatewayBin: String?

    @Option(parsing: .unconditionalSingleValue, help: "Extra flag for the spawned gateway (repeatable), e.g. --gateway-arg=--max-inflight=128.")
    var gatewayArg: [String] = []

    @Option(help: "Process id of the --url gateway (same machine): report its CPU seconds per million deliveries. Automatic with --spawn.")
    var gatewayPid: Int32?

    @Flag(help: "Keep the spawned gateway's data dir.")
    var keepData = false

    @Option(help: "Sender connections, one user each.")
    var senders = 64

    @Option(help: "Senders per group: 1 gives each sender its own group; more share groups.")
    var sendersPerGroup = 1

    @Option(help: "Receiver connections per group (other users, members of the group).")
    var receivers = 1

    @Option(help: "Idle mode: open this many connections (one user each) as fast as possible and report connections/s and the gateway's resident memory per connection; no messages.")
    var idle: Int?

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
            if let receiverUrl {
                guard let other = try? GatewayTarget(url: receiverUrl), Self.isLoopback(other.host) else {
                    throw ValidationError("--receiver-url must be a loopback ws:// or wss:// URL")
                }
            }
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
        if let idle, idle < 1 { throw ValidationError("--idle must be at least 1") }
        guard (40...4096).contains(textBytes) else { throw ValidationError("--text-bytes must be 40-4096") }
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    var groups: Int { (senders + sendersPerGroup - 1) / sendersPerGroup }

    /// The spawned gateway's store: embedded unless a --gateway-arg says otherwise.
    var spawnedStore: String {
        var store = "embedded"
        for (index, arg) in gatewayArg.enumerated() {
            if arg.hasPrefix("--store=") { store = String(arg.dropFirst("--store=".count)) }
            if arg == "--store", index + 1 < gatewayArg.count { store = gatewayArg[index + 1] }
        }
        return store
    }

    /// `--gateway-bin`, `$SOCIAL_GATEWAY_BIN`, `social-gateway` beside this program, else the debug build.
    func gatewayBinary() -> String {
        if let gatewayBin { return gatewayBin }
        if let fromEnv = ProcessInfo.processInfo.environment["SOCIAL_GATEWAY_BIN"] { return fromEnv }
        if let own = Bundle.main.executableURL {
            let sibling = own.deletingLastPathComponent().appendingPathComponent("social-gateway").path
            if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
        }
        return GatewayProcess.binaryPath
    }
}
