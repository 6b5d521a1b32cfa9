import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Opens a TCP listener on a free 127.0.0.1 port: its descriptor (the
/// caller closes it) and the port.
/// - Parameter backlog: `listen`'s backlog; 0 with no `accept` makes a
///   listener whose queue is full after a few connections (further connects hang).
public func openLoopbackListener(backlog: Int32 = 16) throws -> (descriptor: Int32, port: Int) {
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard listener >= 0 else { throw MinterError("socket() failed: errno \(errno)") }
    var one: Int32 = 1
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(listener, $0, length) == 0 && listen(listener, backlog) == 0 && getsockname(listener, $0, &length) == 0
        }
    }
    guard bound else {
        let error = errno
        close(listener)
        throw MinterError("cannot listen: errno \(error)")
    }
    return (listener, Int(UInt16(bigEndian: addr.sin_port)))
}
