import Foundation

/// One line of a gateway's log as swift-log's `StreamLogHandler` writes it:
/// `<time> <level> <label>: key=value key=value [Module] message`.
public struct GatewayLogLine: Sendable, CustomStringConvertible {
    public var level: String
    public var message: String
    /// The metadata whose values hold no space (ids, names, numbers).
    public var metadata: [String: String]
    public var description: String

    /// Reads `line`; nil when it is not in that form.
    public init?(_ line: Substring) {
        let words = line.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count >= 4, let module = words.lastIndex(where: { $0.hasPrefix("[") && $0.hasSuffix("]") }),
              module + 1 < words.count else { return nil }
        level = String(words[1])
        message = words[(module + 1)...].joined(separator: " ")
        var metadata: [String: String] = [:]
        for word in words[3..<module] {
            let parts = word.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { metadata[String(parts[0])] = String(parts[1]) }
        }
        self.metadata = metadata
        description = String(line)
    }

    public subscript(_ key: String) -> String? { metadata[key] }
}

extension GatewayProcess {
    /// The lines logged so far with `message`, oldest first.
    public func logLines(_ message: String) -> [GatewayLogLine] {
        logs.split(separator: "\n").compactMap(GatewayLogLine.init).filter { $0.message == message }
    }

    /// Polls (every 50 ms, up to `timeout` s) for a line with `message` that `predicate` accepts.
    public func waitForLogLine(_ message: String, timeout: Double = 10,
                               where predicate: (GatewayLogLine) -> Bool = { _ in true }) -> GatewayLogLine? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if let line = logLines(message).first(where: predicate) { return line }
            Thread.sleep(forTimeInterval: 0.05)
        } while Date() < deadline
        return nil
    }
}
