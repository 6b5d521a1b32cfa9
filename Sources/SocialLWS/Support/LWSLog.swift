import CLibWebSockets
import Foundation
import Logging

/// Routes libwebsockets' own log lines (errors and warnings) to swift-log.
enum LWSLog {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var logger: Logger?

    /// Installs the route once per process. Any thread, before contexts are created.
    static func install(_ logger: Logger) {
        lock.lock()
        defer { lock.unlock() }
        guard self.logger == nil else { return }
        self.logger = logger
        let extra = Int32(ProcessInfo.processInfo.environment["SOCIAL_LWS_LOG"] ?? "") ?? 0
        lws_set_log_level(LLL_ERR | LLL_WARN | extra, lwsLogEmit)
    }

    fileprivate static func emit(_ level: Int32, _ line: String) {
        lock.lock()
        let logger = self.logger
        lock.unlock()
        let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if level & LLL_ERR != 0 {
            logger?.error("lws: \(text)")
        } else {
            logger?.warning("lws: \(text)")
        }
    }
}

private func lwsLogEmit(_ level: Int32, _ line: UnsafePointer<CChar>?) {
    guard let line else { return }
    LWSLog.emit(level, String(cString: line))
}
