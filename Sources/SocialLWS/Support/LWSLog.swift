import CGatewayShims
import CLibWebSockets
import Foundation
import Logging
import Synchronization

/// Routes libwebsockets' own log lines (errors and warnings) to swift-log,
/// through a `LogThrottle`: a line that repeats (lws logs every failed
/// `accept`) is written once per 10 s with the count held back.
enum LWSLog {
    private struct State {
        var logger: Logger?
        var throttle = LogThrottle()
    }

    private static let state = Mutex(State())

    /// Installs the route once per process. Any thread, before contexts are created.
    static func install(_ logger: Logger) {
        let installed = state.withLock { state -> Bool in
            guard state.logger == nil else { return false }
            state.logger = logger
            return true
        }
        guard installed else { return }
        let extra = Int32(ProcessInfo.processInfo.environment["SOCIAL_LWS_LOG"] ?? "") ?? 0
        lws_set_log_level(LLL_ERR | LLL_WARN | extra, lwsLogEmit)
    }

    /// One line from lws, on the thread that logged it (any lws context's service thread).
    fileprivate static func emit(_ level: Int32, _ line: String) {
        let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
        let now = Int64(DispatchTime.now().uptimeNanoseconds / 1_000_000)
        let (logger, heldBack) = state.withLock { state in (state.logger, state.throttle.admit(text, now: now)) }
        guard let logger, let heldBack else { return }
        let metadata: Logger.Metadata? = heldBack > 0 ? ["repeated": "\(heldBack)"] : nil
        if level & LLL_ERR != 0 {
            logger.error("lws: \(text)", metadata: metadata)
        } else {
            logger.warning("lws: \(text)", metadata: metadata)
        }
    }
}

private func lwsLogEmit(_ level: Int32, _ line: UnsafePointer<CChar>?) {
    guard let line else { return }
    sg_loop_lws_log_line(line)  // a header-space overflow: the service loop answers 431 (loop.c)
    LWSLog.emit(level, String(cString: line))
}
