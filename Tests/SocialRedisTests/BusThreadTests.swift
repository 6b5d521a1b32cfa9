import Foundation
import Testing
@testable import SocialRedis
#if canImport(Glibc)
import Glibc
#endif

@Suite struct BusThreadTests {
    /// Without the blocked signal, this write would kill the test process.
    @Test func aBusThreadSurvivesWritingToAClosedConnection() async {
        let (written, error) = await withCheckedContinuation { (done: CheckedContinuation<(Int, Int32), Never>) in
            startBusThread(name: "sigpipe-test") {
                done.resume(returning: writeToClosedSocket())
            }
        }
        #expect(written == -1)
        #expect(error == EPIPE)
    }
}

/// Writes a byte to a socket whose peer is closed: `(result, errno)`.
func writeToClosedSocket() -> (Int, Int32) {
    var fds: [Int32] = [-1, -1]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { return (0, errno) }
    close(fds[1])
    var byte: UInt8 = 1
    let written = write(fds[0], &byte, 1)
    let error = errno
    close(fds[0])
    return (written, error)
}
