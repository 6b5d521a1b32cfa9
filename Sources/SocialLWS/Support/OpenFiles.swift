import Foundation
import Logging

/// The process's open-file limit (`RLIMIT_NOFILE`), which bounds the sockets
/// the gateway may hold.
enum OpenFiles {
    /// Raises the soft limit to the hard one (a process may, unprivileged)
    /// and returns the soft limit now in force; nil when it cannot be read or
    /// is practically unlimited. Once, at start, on any thread.
    static func raiseToHardLimit(logger: Logger) -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 {
                logger.info("open-file limit raised to the hard limit", metadata: [
                    "from": "\(limit.rlim_cur)", "to": "\(limit.rlim_max)"])
                limit = raised
            } else {
                logger.warning("cannot raise the open-file limit to the hard limit", metadata: [
                    "soft": "\(limit.rlim_cur)", "hard": "\(limit.rlim_max)", "errno": "\(errno)"])
            }
        }
        guard limit.rlim_cur < (1 << 40) else { return nil }
        return Int(limit.rlim_cur)
    }

    /// Descriptors kept for everything but client sockets under an open-file
    /// limit of `limit`: the listener, the store's files and connections, the
    /// bus, outgoing HTTP. 256, or an eighth of a small limit (at least 64).
    static func reserved(_ limit: Int) -> Int {
        min(256, max(64, limit / 8))
    }
}
