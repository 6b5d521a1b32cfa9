import ArgumentParser
import Foundation
import SocialTesting

/// `social-cli`: talk `social.v1` to a gateway by hand, like `wscat`.
@main
struct CLICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "social-cli",
        abstract: "Interactive client of the social gateway (protocol social.v1).",
        discussion: """
            Reads lines from stdin and prints every frame the gateway sends, one per line. \
            A line that is JSON is sent as is; `op key=value …` becomes {"id": N, "op": op, "args": {…}}. \
            Type :help once connected. Exit status: 0 after :quit or end of input with every reply \
            received, 1 when it cannot connect, 3 when the server closed the connection first, \
            4 when replies were still missing at the end.
            """)

    @Option(help: "Gateway WebSocket URL. $SOCIAL_CLI_URL")
    var url: String = env("URL") ?? "ws://127.0.0.1:8080/ws"

    @Option(help: "Access token (JWT). $SOCIAL_CLI_TOKEN")
    var token: String?

    @Option(help: "Mint a token for this user id with --secret instead of --token. $SOCIAL_CLI_USER")
    var user: String?

    @Option(help: "HS256 secret the gateway trusts, to mint a token for --user. $SOCIAL_CLI_SECRET")
    var secret: String?

    @Option(help: "Lifetime of a minted token, seconds.")
    var ttl: Double = 3600

    @Option(help: "Device id (the device_id query parameter). $SOCIAL_CLI_DEVICE")
    var device: String?

    @Flag(help: "Accept a self-signed or untrusted certificate (wss).")
    var insecure = false

    @Option(help: "Seconds to wait for the handshake.")
    var connectTimeout: Double = 10

    @Option(help: "At :quit or end of input, seconds to wait for replies still pending.")
    var wait: Double = 5

    @Option(help: "At :quit or end of input, seconds to keep printing events once the replies are in.")
    var linger: Double = 0

    @Flag(help: "Do not print the frames sent (lines starting with '>').")
    var quiet = false

    @Flag(help: "Also print libwebsockets' warnings.")
    var verbose = false

    static func env(_ name: String) -> String? {
        ProcessInfo.processInfo.environment["SOCIAL_CLI_" + name].flatMap { $0.isEmpty ? nil : $0 }
    }

    func validate() throws {
        _ = try target()
        if resolvedToken == nil && (resolvedUser == nil || resolvedSecret == nil) {
            throw ValidationError("give --token, or --user with --secret (or their SOCIAL_CLI_* variables)")
        }
        guard wait >= 0, linger >= 0, connectTimeout > 0 else {
            throw ValidationError("--wait and --linger must be ≥ 0, --connect-timeout > 0")
        }
    }

    var resolvedToken: String? { token ?? Self.env("TOKEN") }
    var resolvedUser: String? { user ?? Self.env("USER") }
    var resolvedSecret: String? { secret ?? Self.env("SECRET") }
    var resolvedDevice: String? { device ?? Self.env("DEVICE") }

    func target() throws -> GatewayTarget {
        do { return try GatewayTarget(url: url) } catch { throw ValidationError("--url: \(error)") }
    }

    func run() async throws {
        let target = try target()
        let accessToken: String
        if let given = resolvedToken {
            accessToken = given
        } else {
            let secret = resolvedSecret!
            guard secret.utf8.count >= 32 else { throw ValidationError("--secret must be at least 32 bytes") }
            accessToken = try await TokenMinter.make(secret: secret).token(user: resolvedUser!, ttl: ttl)
        }
        let settings = Console.Settings(
            target: target, request: target.request(token: accessToken, deviceId: resolvedDevice, allowInsecureTLS: insecure),
            connectTimeout: connectTimeout, wait: wait, linger: linger, echo: !quiet, verbose: verbose)
        // The console blocks on stdin and sockets: give it its own thread, not the cooperative pool.
        let status = await withCheckedContinuation { (done: CheckedContinuation<Int32, Never>) in
            Thread.detachNewThread { done.resume(returning: Console(settings).run()) }
        }
        if status != 0 { throw ExitCode(status) }
    }
}
