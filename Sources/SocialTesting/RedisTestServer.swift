import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A `redis-server` process started by a test: on a free loopback port, with
/// no persistence (`--save '' --appendonly no`) and its own directory; it can
/// be stopped, killed and started again on the same port (outage tests).
///
/// The binary is `$REDIS_SERVER_BIN`, else `redis-server` on the `PATH`;
/// when there is none, `start` throws saying how to install it (tests fail,
/// they are not skipped).
///
/// Threads: any. `@unchecked Sendable`: `process` is only touched under `lock`.
public final class RedisTestServer: @unchecked Sendable {
    public let port: Int
    public let directory: String
    public let logPath: String
    private let binary: String
    /// Where it runs (this machine's loopback unless a `NetworkLab` placed it).
    public let placement: NetworkPlacement
    private let lock = NSLock()
    private var process: Process?

    /// `redis://127.0.0.1:<port>`.
    public var url: String { "redis://127.0.0.1:\(port)" }

    /// The `redis-server` to run, if there is one.
    public static var binaryPath: String? {
        if let path = ProcessInfo.processInfo.environment["REDIS_SERVER_BIN"] { return path }
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        return (directories.map { "\($0)/redis-server" } + ["/usr/bin/redis-server", "/usr/sbin/redis-server"])
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Starts a server and waits until it answers `PING`.
    /// - Parameters:
    ///   - port: a free loopback port unless given.
    ///   - placement: where it runs; in a namespace, the lab forwards `port`
    ///     on this machine's loopback to it (set that up first).
    public static func start(port: Int? = nil, placement: NetworkPlacement = .loopback,
                             timeout: Double = 10) throws -> RedisTestServer {
        guard let binary = binaryPath else {
            throw MinterError("redis-server not found: install it (apt-get install redis-server) or set REDIS_SERVER_BIN")
        }
        let server = RedisTestServer(binary: binary, port: port ?? RawSocket.freePort(), placement: placement)
        try server.launch(timeout: timeout)
        return server
    }

    private init(binary: String, port: Int, placement: NetworkPlacement) {
        self.binary = binary
        self.port = port
        self.placement = placement
        directory = RepoPaths.temporaryDirectory(prefix: "redis")
        logPath = directory + "/redis.log"
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Starts the server again on the same port (after `kill` or `stop`).
    public func restart(timeout: Double = 10) throws {
        try launch(timeout: timeout)
    }

    /// SIGKILL: the server vanishes without closing anything cleanly.
    public func kill() { terminate(with: SIGKILL) }

    /// SIGTERM: a clean shutdown.
    public func stop() { terminate(with: SIGTERM) }

    public var isRunning: Bool { lock.withLock { process?.isRunning ?? false } }

    /// The server's process id while it runs (for CPU figures from `/proc`).
    public var processIdentifier: Int32? {
        lock.withLock { process.flatMap { $0.isRunning ? $0.processIdentifier : nil } }
    }

    /// What the server logged.
    public var logs: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Sends one command on a new connection and returns Redis's reply.
    /// Binary-safe arguments.
    public func command(_ arguments: [[UInt8]], timeout: Double = 5) throws -> RESPReply {
        let socket = try RawSocket(port: port, timeout: timeout)
        var request = Array("*\(arguments.count)\r\n".utf8)
        for argument in arguments {
            request += Array("$\(argument.count)\r\n".utf8) + argument + Array("\r\n".utf8)
        }
        try socket.send(request)
        let received = socket.receive { RESPReply.parse($0[...]) != nil }
        guard let (reply, _) = RESPReply.parse(received[...]) else {
            throw MinterError("redis on port \(port) did not answer \(arguments.first.map { String(decoding: $0, as: UTF8.self) } ?? "")")
        }
        return reply
    }

    /// `command` with text arguments.
    public func command(_ arguments: String...) throws -> RESPReply {
        try command(arguments.map { Array($0.utf8) })
    }

    /// Publishes raw bytes on `channel`; returns how many subscribers got them.
    @discardableResult
    public func publish(_ channel: String, _ payload: [UInt8]) throws -> Int {
        let reply = try command([Array("PUBLISH".utf8), Array(channel.utf8), payload])
        guard let receivers = reply.integer else { throw MinterError("PUBLISH answered \(reply)") }
        return receivers
    }

    /// How many connections are subscribed to `channel` (`PUBSUB NUMSUB`).
    public func subscriberCount(_ channel: String) throws -> Int {
        let reply = try command("PUBSUB", "NUMSUB", channel)
        guard let count = reply.elements?.last?.integer else { throw MinterError("PUBSUB NUMSUB answered \(reply)") }
        return count
    }

    /// Client connections, the one asking included (`INFO clients`).
    public func connectedClients() throws -> Int {
        let info = try command("INFO", "clients").text ?? ""
        let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("connected_clients:") }
        guard let count = line.flatMap({ Int($0.dropFirst("connected_clients:".count)) }) else {
            throw MinterError("INFO clients answered \(info)")
        }
        return count
    }

    /// SIGSTOP: the server keeps its sockets open but answers nothing (a hung
    /// server, or a network that drops everything). `resume` undoes it.
    public func pause() { deliver(SIGSTOP) }

    /// SIGCONT after `pause`.
    public func resume() { deliver(SIGCONT) }

    private func deliver(_ signal: Int32) {
        guard let process = lock.withLock({ self.process }), process.isRunning else { return }
        Foundation.kill(process.processIdentifier, signal)
    }

    private func launch(timeout: Double) throws {
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let process = try spawn()
        lock.withLock { self.process = process }

        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard process.isRunning else {
                throw MinterError("redis-server exited with \(process.terminationStatus):\n\(logs)")
            }
            if (try? command([Array("PING".utf8)], timeout: 0.5)) == .simple("PONG") { return }
            Thread.sleep(forTimeInterval: 0.02)
        }
        kill()
        throw MinterError("redis-server on port \(port) did not answer PING within \(timeout) s:\n\(logs)")
    }

    /// Runs `redis-server`. Foundation's `Process.run` on Linux lists the open
    /// descriptors and has the child close them: when another test thread
    /// closes one meanwhile, the spawn fails with EBADF. Such a failure is
    /// retried; the server itself is not at fault.
    private func spawn() throws -> Process {
        var attempt = 0
        while true {
            attempt += 1
            let process = Process()
            let command = placement.command(binary, [
                "--port", String(port), "--bind", placement.host, "--save", "", "--appendonly", "no",
                "--dir", directory, "--daemonize", "no", "--loglevel", "notice",
                // In a lab namespace clients come from other addresses; nothing outside can reach it.
                "--protected-mode", placement.namespace == nil ? "yes" : "no"])
            process.executableURL = URL(fileURLWithPath: command.executable)
            process.arguments = command.arguments
            let log = FileHandle(forWritingAtPath: logPath)
            log?.seekToEndOfFile()
            process.standardOutput = log
            process.standardError = log
            do {
                try process.run()
                return process
            } catch where attempt < 5 && (error as NSError).underlyingPOSIXCode == EBADF {
                Thread.sleep(forTimeInterval: 0.01)
            }
        }
    }

    /// Sends `signal` and waits for the exit.
    private func terminate(with signal: Int32) {
        guard let process = lock.withLock({ self.process }), process.isRunning else { return }
        Foundation.kill(process.processIdentifier, signal)
        if signal != SIGKILL { Foundation.kill(process.processIdentifier, SIGCONT) }  // a paused server must run to exit
        process.waitUntilExit()
    }
}

private extension NSError {
    var underlyingPOSIXCode: Int32? {
        guard let underlying = userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain else {
            return nil
        }
        return Int32(underlying.code)
    }
}
