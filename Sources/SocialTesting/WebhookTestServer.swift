import Foundation

/// A real HTTP server standing in for the push service
/// (`Tests/webhook/push_webhook_server.py`): records each POST it receives,
/// and can fail the first ones with 503 to exercise retries.
///
/// Threads: any; `requests` reads the server's log file.
public final class WebhookTestServer: @unchecked Sendable {
    /// One request the server received.
    public struct Received: Decodable, Sendable {
        public var path: String
        public var headers: [String: String]
        /// The request body, parsed as JSON.
        public var body: ReceivedBody
        /// What the server replied.
        public var status: Int
    }

    /// The fields of a push body the tests read.
    public struct ReceivedBody: Decodable, Sendable {
        public struct Item: Decodable, Sendable {
            public var id: Int64
            public var title: String
        }
        public var userId: String
        public var digest: Bool
        public var notifications: [Item]
        enum CodingKeys: String, CodingKey { case userId = "user_id", digest, notifications }
    }

    private let process: Process
    private let logPath: String
    public let port: Int
    public var url: String { "http://127.0.0.1:\(port)/push" }

    /// Starts the server. Immutable after `init`, stopped in `stop`/`deinit`:
    /// that is why the `@unchecked Sendable` is sound.
    /// - Parameters:
    ///   - failFirst: how many requests get 503 before the others get `status`.
    ///   - status: the reply after those.
    public init(failFirst: Int = 0, status: Int = 200) throws {
        let directory = RepoPaths.temporaryDirectory(prefix: "webhook")
        logPath = directory + "/requests.jsonl"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", RepoPaths.root + "/Tests/webhook/push_webhook_server.py", "--log", logPath,
                             "--fail-first", String(failFirst), "--status", String(status)]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // The first line is the port the kernel picked.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw MinterError("the webhook test server did not print its port")
        }
        self.port = port
    }

    /// Every request so far, in arrival order.
    public var requests: [Received] {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Received.self, from: Data($0.utf8)) }
    }

    /// Polls (every 50 ms, up to `seconds`) until `count` requests arrived; returns them.
    public func waitForRequests(_ count: Int, seconds: Double = 20) async -> [Received] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let seen = requests
            if seen.count >= count { return seen }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        return requests
    }

    /// SIGTERM, then SIGKILL after 5 s. Idempotent.
    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}
