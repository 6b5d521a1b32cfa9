import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SocialCore

/// Starts one of the bus's own threads (publisher, subscriber): `body` runs
/// on a new thread that does not die of `SIGPIPE`.
///
/// Why: hiredis writes with plain `write(2)`; writing to a connection Redis
/// has closed raises `SIGPIPE`, whose default action kills the whole gateway.
/// Blocking the signal in this thread only leaves the rest of the process
/// as it was: the write then fails with `EPIPE` (hiredis reports an I/O
/// error and the thread reconnects), and the thread-directed signal stays
/// pending, inert.
func startBusThread(name: String, _ body: @escaping @Sendable () -> Void) {
    Thread.startNamed(name) {
        ignoreBrokenPipeOnThisThread()
        body()
    }
}

/// Blocks `SIGPIPE` for the calling thread. Any thread (it affects only itself).
func ignoreBrokenPipeOnThisThread() {
    var signals = sigset_t()
    sigemptyset(&signals)
    sigaddset(&signals, SIGPIPE)
    pthread_sigmask(SIG_BLOCK, &signals, nil)
}
