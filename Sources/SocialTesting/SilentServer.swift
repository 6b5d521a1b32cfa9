import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP server that accepts connections and reads what clients send but
/// never answers: a backend that hangs mid-request. The test decides when
/// the connections break (`closeConnections`) and can free the port for a
/// real server (`stopListening`).
///
/// Threads: the test's; not shared.
public final class SilentServer {
    public let port: Int
    private var listener: Int32
    private var connections: [Int32] = []
    private var received: [[UInt8]] = []

    /// Listens on a free loopback port.
    public init() throws {
        (listener, port) = try openLoopbackListener()
    }

    deinit {
        closeConnections()
        stopListening()
    }

    /// Accepts and reads until `predicate` holds for the bytes of one
    /// connection; returns whether it did within `timeout` seconds.
    public func read(timeout: Double, until predicate: ([UInt8]) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
                + connections.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&fds, nfds_t(fds.count), 50) > 0 else { continue }
            if listener >= 0, fds[0].revents != 0 {
                let client = accept(listener, nil, nil)
                if client >= 0 { connections.append(client); received.append([]) }
            }
            for (i, fd) in fds.dropFirst().enumerated() where fd.revents != 0 {
                var buffer = [UInt8](repeating: 0, count: 65536)
                let n = recv(fd.fd, &buffer, buffer.count, 0)
                if n > 0 { received[i] += buffer[0..<n] }
            }
            if received.contains(where: predicate) { return true }
        }
        return false
    }

    /// Closes the listening socket: new connections are refused, and another
    /// server may take the port. Accepted connections stay open.
    public func stopListening() {
        guard listener >= 0 else { return }
        close(listener)
        listener = -1
    }

    /// Closes every accepted connection: the clients see the connection end.
    public func closeConnections() {
        for fd in connections { close(fd) }
        connections = []
        received = []
    }
}
