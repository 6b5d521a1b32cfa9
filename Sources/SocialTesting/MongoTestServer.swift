import Foundation

/// A MongoDB-wire server for store tests: the one at `MONGO_URL` when set,
/// otherwise `secantusd-py` (PyPI `secantusdb`) started on a free loopback
/// port with in-memory storage, and stopped by the test.
///
/// Threads: any thread; `start`, `kill`, `restart` and `stop` block while
/// the process starts or exits. `@unchecked Sendable` because the process
/// handle is only replaced or signalled while holding `lock`.
public final class MongoTestServer: @unchecked Sendable {
    /// The connection string for stores under test.
    public let url: String
    /// The port of a server this harness started; nil for `MONGO_URL`.
    public let port: Int?
    private let storagePath: String
    private let extraArguments: [String]
    /// Where it runs (this machine's loopback unless a `NetworkLab` placed it).
    public let placement: NetworkPlacement
    private let logPath: String
    private let lock = NSLock()
    private var process: Process?

    /// How to install the server, for skip and failure messages.
    public static let installHint = "pip install secantusdb==0.7.0b3 (it provides secantusd-py), or set MONGO_URL"

    /// `secantusd-py` on `PATH` (or `$SECANTUSD_BIN`), if installed.
    public static var executable: String? {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["SECANTUSD_BIN"] { return path }
        for directory in (environment["PATH"] ?? "").split(separator: ":") {
            let path = "\(directory)/secantusd-py"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// `MONGO_URL`, when the tests should use a server someone else runs.
    public static var externalURL: String? { ProcessInfo.processInfo.environment["MONGO_URL"] }

    /// Whether tests needing a server should run. In CI (`CI` set) they always
    /// run, so a missing server fails them with `installHint` instead of skipping.
    public static var shouldRun: Bool {
        ProcessInfo.processInfo.environment["CI"] != nil || externalURL != nil || executable != nil
    }

    /// Whether tests that kill and restart the server can run: they need a process of their own.
    public static var canRunOwnProcess: Bool {
        ProcessInfo.processInfo.environment["CI"] != nil || executable != nil
    }

    /// `MONGO_URL` when set (unless `ownProcess`), else a new `secantusd-py`.
    /// - Parameters:
    ///   - ownProcess: always start a process (tests that stop the server).
    ///   - storagePath: `:memory:` (cleaned up on a normal stop), or a directory kept across restarts.
    ///   - durable: fsync every commit (`--sync-on-commit`); without it the
    ///     server loses its latest writes when killed, even with a storage directory.
    ///   - port: a free loopback port unless given (a server started later
    ///     on a port a gateway already tries).
    ///   - placement: where it runs; in a namespace, the lab forwards `port`
    ///     on this machine's loopback to it (set that up first). `url` is
    ///     the address in the namespace.
    ///   - timeout: seconds to wait until the server accepts connections.
    public static func start(ownProcess: Bool = false, storagePath: String = ":memory:", durable: Bool = false,
                             port: Int? = nil, placement: NetworkPlacement = .loopback,
                             timeout: Double = 60) throws -> MongoTestServer {
        if !ownProcess, port == nil, placement == .loopback, let url = externalURL {
            return MongoTestServer(url: url, port: nil, storagePath: "", extraArguments: [], logPath: "", placement: .loopback)
        }
        guard executable != nil else { throw MinterError("secantusd-py is not installed: \(installHint)") }
        let port = port ?? RawSocket.freePort()
        let logPath = RepoPaths.temporaryDirectory(prefix: "mongo-log") + "/secantusd.log"
        let server = MongoTestServer(url: "mongodb://\(placement.host):\(port)/", port: port, storagePath: storagePath,
                                     extraArguments: durable ? ["--sync-on-commit"] : [], logPath: logPath,
                                     placement: placement)
        try server.launch(timeout: timeout)
        return server
    }

    private init(url: String, port: Int?, storagePath: String, extraArguments: [String], logPath: String,
                 placement: NetworkPlacement) {
        self.url = url
        self.port = port
        self.storagePath = storagePath
        self.extraArguments = extraArguments
        self.logPath = logPath
        self.placement = placement
    }

    deinit {
        stop()
        if !logPath.isEmpty {
            try? FileManager.default.removeItem(atPath: (logPath as NSString).deletingLastPathComponent)
        }
    }

    /// Everything the server logged so far.
    public var logs: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// SIGKILL, no shutdown: the database vanishes mid-connection.
    public func kill() {
        lock.withLock {
            guard let process, process.isRunning else { return }
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// SIGSTOP: the server keeps its sockets open but answers nothing (a hung
    /// database). `resume` undoes it.
    public func pause() { deliver(SIGSTOP) }

    /// SIGCONT after `pause`.
    public func resume() { deliver(SIGCONT) }

    private func deliver(_ signal: Int32) {
        lock.withLock {
            guard let process, process.isRunning else { return }
            Foundation.kill(process.processIdentifier, signal)
        }
    }

    /// Starts the server again on the same port and storage, after `kill` or `stop`.
    public func restart(timeout: Double = 60) throws {
        guard port != nil else { throw MinterError("cannot restart the server at MONGO_URL") }
        kill()
        try launch(timeout: timeout)
    }

    /// SIGTERM (the server removes its in-memory storage), SIGKILL after 10 s. Idempotent.
    public func stop() {
        lock.withLock {
            guard let process, process.isRunning else { return }
            process.terminate()
            Foundation.kill(process.processIdentifier, SIGCONT)  // a paused server must run to exit
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    private func launch(timeout: Double) throws {
        guard let port, let executable = Self.executable else {
            throw MinterError("secantusd-py is not installed: \(Self.installHint)")
        }
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let process = Process()
        let command = placement.command(executable, ["--host", placement.host, "--port", String(port),
                                                     "--storage-path", storagePath, "--log-level", "WARNING"] + extraArguments)
        process.executableURL = URL(fileURLWithPath: command.executable)
        process.arguments = command.arguments
        let log = FileHandle(forWritingAtPath: logPath)
        log?.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        lock.withLock { self.process = process }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard process.isRunning else {
                throw MinterError("secantusd-py exited with \(process.terminationStatus):\n\(logs)")
            }
            if let namespace = placement.namespace {
                // The lab's forwarder accepts whether or not the server listens: ask from inside.
                if NetworkLab.canConnect(in: namespace, host: placement.host, port: port) { return }
            } else if (try? RawSocket(port: port, timeout: 1)) != nil {
                return
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        kill()
        throw MinterError("secantusd-py did not accept connections on port \(port) within \(timeout) s:\n\(logs)")
    }
}
