import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A non-blocking pipe that wakes a thread sleeping in `poll`: other threads
/// `signal`, the sleeping thread polls `readDescriptor` and `drain`s it.
///
/// Threads: `signal` from any thread (one non-blocking `write`, never
/// blocks: a full pipe already holds a pending wake-up); `drain` from the
/// polling thread. Sendable: only immutable descriptors are stored, and
/// `read`/`write` on them are thread-safe system calls.
final class WakePipe: Sendable {
    let readDescriptor: Int32
    private let writeDescriptor: Int32

    init() throws {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            throw RedisBusError.connectFailed("cannot create a wake-up pipe: errno \(errno)")
        }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readDescriptor = fds[0]
        writeDescriptor = fds[1]
    }

    deinit {
        close(readDescriptor)
        close(writeDescriptor)
    }

    /// Wakes the polling thread. Any thread; never blocks.
    func signal() {
        var byte: UInt8 = 1
        _ = write(writeDescriptor, &byte, 1)
    }

    /// Empties the pipe. The polling thread.
    func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(readDescriptor, &buffer, buffer.count) > 0 {}
    }

    /// Sleeps until `signal` or `seconds` have passed. The polling thread.
    func wait(seconds: Double) {
        var fds = [pollfd(fd: readDescriptor, events: Int16(POLLIN), revents: 0)]
        _ = poll(&fds, 1, Int32(max(0, min(seconds, 3600)) * 1000))
        drain()
    }
}

/// Seconds on a monotonic clock (not wall time), for timeouts.
func monotonicSeconds() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1_000_000_000
}
