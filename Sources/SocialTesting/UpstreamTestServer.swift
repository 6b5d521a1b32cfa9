import Foundation

/// The REST upstream of the proxy tests: `Tests/upstream/echo_upstream.py`
/// (Python's `http.server`, HTTP/1.1 keep-alive) on a free loopback port. It
/// echoes each request's method, path, headers and body as JSON; its paths
/// for slow answers, statuses, text, big and chunked bodies and a failing
/// mode are described in the script.
///
/// Threads: any. `@unchecked Sendable`: `process` is set once in `start`.
public final class UpstreamTestServer: @unchecked Sendable {
    public let port: Int
    private let process: Process

    /// `http://127.0.0.1:<port>`.
    public var url: String { "http://127.0.0.1:\(port)" }

    /// Starts the script with `python3` and waits for its `READY` line.
    public static func start(timeout: Double = 10) throws -> UpstreamTestServer {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", RepoPaths.root + "/Tests/upstream/echo_upstream.py"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        // The READY line, read on its own thread so the wait is bounded.
        let line = ReadyLine()
        Thread.detachNewThread {
            var text = ""
            while !text.contains("\n") {
                let data = output.fileHandleForReading.availableData
                if data.isEmpty { break }
                text += String(decoding: data, as: UTF8.self)
            }
            line.set(text)
        }
        guard let text = line.wait(timeout: timeout), text.hasPrefix("READY "),
              let port = Int(text.dropFirst(6).prefix { $0.isNumber }) else {
            kill(process.processIdentifier, SIGKILL)
            throw MinterError("the upstream test server did not start (python3 \(RepoPaths.root)/Tests/upstream/echo_upstream.py)")
        }
        return UpstreamTestServer(port: port, process: process)
    }

    private init(port: Int, process: Process) {
        self.port = port
        self.process = process
    }

    /// Stops the server; calls to it are then refused. SIGKILL: a test
    /// runner may hand its children SIGTERM ignored, and Python keeps that.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// One line handed from a reader thread to a waiting one.
private final class ReadyLine: @unchecked Sendable {
    private let condition = NSCondition()
    private var text: String?

    func set(_ value: String) {
        condition.lock()
        text = value
        condition.broadcast()
        condition.unlock()
    }

    func wait(timeout: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while text == nil, condition.wait(until: deadline) {}
        return text
    }
}
