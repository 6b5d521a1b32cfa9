import Foundation

/// A `social-gateway` process started for a test, on a free port with its own
/// data directory, and stopped (or killed) by the test.
public final class GatewayProcess: @unchecked Sendable {
    public let port: Int
    public let dataDir: String
    public let logPath: String
    public let arguments: [String]
    private let process: Process

    /// The gateway binary: `$SOCIAL_GATEWAY_BIN`, else the debug build in this checkout.
    public static var binaryPath: String {
        if let path = ProcessInfo.processInfo.environment["SOCIAL_GATEWAY_BIN"] { return path }
        return RepoPaths.root + "/.build/debug/social-gateway"
    }

    /// Starts the gateway and waits until `/healthz` answers.
    /// - Parameters:
    ///   - arguments: flags beyond `--port`, `--data-dir` (given unless `dataDir` is set in them).
    ///   - dataDir: reuse a data directory (for restart tests); a fresh one otherwise.
    ///   - placement: where it listens; in a `NetworkLab` namespace, the lab
    ///     forwards `port` on this machine's loopback to it (set that up first).
    ///   - openFiles: start it under this open-file limit (`ulimit -n` in a shell that then
    ///     execs the gateway, so `pid` is the gateway's): the soft limit, and the hard one
    ///     (nil leaves the hard limit as it is).
    public static func start(secret: String?, arguments: [String] = [], dataDir: String? = nil,
                             port: Int? = nil, environment: [String: String] = [:],
                             placement: NetworkPlacement = .loopback,
                             openFiles: (soft: Int, hard: Int?)? = nil,
                             timeout: Double = 30) throws -> GatewayProcess {
        let dir = dataDir ?? RepoPaths.temporaryDirectory(prefix: "gw-data")
        let port = port ?? RawSocket.freePort()
        var args = ["--host", placement.host, "--port", String(port), "--data-dir", dir, "--log-level", "info"]
        if let secret { args += ["--jwt-secret", secret] }
        args += arguments
        let gateway = try GatewayProcess(port: port, dataDir: dir, arguments: args, environment: environment,
                                         placement: placement, openFiles: openFiles)
        try gateway.waitHealthy(timeout: timeout)
        return gateway
    }

    private init(port: Int, dataDir: String, arguments: [String], environment: [String: String],
                 placement: NetworkPlacement, openFiles: (soft: Int, hard: Int?)?) throws {
        self.port = port
        self.dataDir = dataDir
        self.arguments = arguments
        self.logPath = RepoPaths.temporaryDirectory(prefix: "gw-log") + "/gateway.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process = Process()
        let command = placement.command(Self.binaryPath, arguments)
        if let openFiles {
            let hard = openFiles.hard.map { " && ulimit -H -n \($0)" } ?? ""
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -S -n \(openFiles.soft)\(hard) && exec \"$0\" \"$@\"", command.executable]
                + command.arguments
        } else {
            process.executableURL = URL(fileURLWithPath: command.executable)
            process.arguments = command.arguments
        }
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SOCIAL_GATEWAY_") }
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let log = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    private func waitHealthy(timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if !process.isRunning {
                throw MinterError("gateway exited with \(process.terminationStatus):\n\(logs)")
            }
            if arguments.contains("--tls-cert") {
                // A TLS port: accepting TCP after the "listening" log line is as far as a plain socket can check.
                if logs.contains("listening"), (try? RawSocket(port: port, timeout: 1)) != nil { return }
            } else if let response = try? RawSocket.http(port: port, path: "/healthz", timeout: 1),
                      response.status == 200 {
                return
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        kill()
        throw MinterError("gateway did not become healthy in \(timeout)s:\n\(logs)")
    }

    public var isRunning: Bool { process.isRunning }
    public var pid: Int32 { process.processIdentifier }

    /// Everything the gateway logged so far.
    public var logs: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Sends a signal and waits for exit; returns the exit status (nil if it did not exit in time).
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: Double = 20) -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        Foundation.kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// SIGKILL, no drain.
    public func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    public var terminationReason: Process.TerminationReason { process.terminationReason }

    deinit { kill() }
}

/// Paths of this checkout, found from this source file.
public enum RepoPaths {
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }  // Sources/SocialTesting/RepoPaths → repo
        return url.path
    }()

    /// A new empty directory under the system temp dir.
    public static func temporaryDirectory(prefix: String) -> String {
        let path = NSTemporaryDirectory() + "/\(prefix)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
