import Foundation
#if canImport(Glibc)
import Glibc
private let streamSocket = Int32(SOCK_STREAM.rawValue)
private let sendFlags = Int32(MSG_NOSIGNAL)
private func systemConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
    Glibc.connect(fd, address, length)
}
#else
import Darwin
private let streamSocket = SOCK_STREAM
private let sendFlags: Int32 = 0  // SO_NOSIGPIPE is set on the socket instead
private func systemConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
    Darwin.connect(fd, address, length)
}
#endif

/// One TCP connection to an upstream, in non-blocking mode; every wait is a
/// `poll` bounded by the call's deadline, so no call outlives its timeout.
///
/// Threads: one proxy worker at a time (a connection is either in use by one
/// call or idle in the pool, handed over under the pool's lock: hence
/// `@unchecked Sendable`). It owns its descriptor and closes it in `deinit`.
final class HTTPConnection: @unchecked Sendable {
    private var fd: Int32
    /// Bytes read past the end of the previous response (none with well-behaved servers).
    var buffer: [UInt8] = []
    /// Whether it already carried a response (a failure on it may mean the server closed it while idle).
    var reused = false
    /// When it went back to the pool (`ContinuousClock` milliseconds).
    var idleSince: Int64 = 0

    private init(fd: Int32) { self.fd = fd }

    deinit { if fd >= 0 { close(fd) } }

    /// Connects to `host:port` within `connectTimeoutMs` (and before `deadline`).
    /// Name resolution is part of the connect. Proxy worker thread.
    static func connect(host: String, port: Int, connectTimeoutMs: Int, deadline: Deadline) throws(HTTPClientError) -> HTTPConnection {
        let connectDeadline = deadline.earlier(than: connectTimeoutMs)
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = streamSocket
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw .connectFailed("cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard fd >= 0 else { lastError = String(cString: strerror(errno)); continue }
            let connection = HTTPConnection(fd: fd)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            #if !canImport(Glibc)
            _ = setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
            #endif
            if systemConnect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return connection }
            guard errno == EINPROGRESS else { lastError = String(cString: strerror(errno)); continue }
            guard try connection.wait(for: Int16(POLLOUT), until: connectDeadline, connecting: true) else {
                throw deadline.isPast ? .timedOut : .connectTimedOut(connectTimeoutMs)
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            if error == 0 { return connection }
            lastError = String(cString: strerror(error))
        }
        throw .connectFailed("cannot connect to \(host):\(port): \(lastError)")
    }

    /// Writes all of `bytes` before `deadline`. Proxy worker thread.
    func write(_ bytes: [UInt8], deadline: Deadline) throws(HTTPClientError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + offset, raw.count - offset, sendFlags)
            }
            if written > 0 {
                offset += written
            } else if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                guard try wait(for: Int16(POLLOUT), until: deadline) else { throw .timedOut }
            } else {
                throw .closed("write: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Reads what is available (waiting until `deadline`) into `buffer`; false at end of stream.
    /// Proxy worker thread.
    func fill(deadline: Deadline) throws(HTTPClientError) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if count > 0 {
                buffer.append(contentsOf: chunk[0..<count])
                return true
            }
            if count == 0 { return false }
            guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else {
                throw .closed("read: \(String(cString: strerror(errno)))")
            }
            guard try wait(for: Int16(POLLIN), until: deadline) else { throw .timedOut }
        }
    }

    /// Whether an idle connection is still usable: no bytes and no end of stream waiting.
    func looksAlive() -> Bool {
        var probe = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&probe, 1, 0) == 0
    }

    /// Waits for `events`; false when `deadline` passed first.
    private func wait(for events: Int16, until deadline: Deadline, connecting: Bool = false) throws(HTTPClientError) -> Bool {
        while true {
            let remaining = deadline.remainingMs
            guard remaining > 0 else { return false }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&entry, 1, Int32(min(remaining, Int(Int32.max))))
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR {
                throw connecting ? .connectFailed("poll: \(String(cString: strerror(errno)))")
                                 : .closed("poll: \(String(cString: strerror(errno)))")
            }
        }
    }
}

/// A point in time a call must finish by (`ContinuousClock`).
struct Deadline: Sendable {
    let instant: ContinuousClock.Instant

    init(afterMs ms: Int) { instant = .now + .milliseconds(ms) }
    private init(_ instant: ContinuousClock.Instant) { self.instant = instant }

    var remainingMs: Int {
        let left = instant - .now
        let ms = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
        return max(0, Int(ms) + (left > .zero ? 1 : 0))
    }

    var isPast: Bool { ContinuousClock.now >= instant }

    /// This deadline or `ms` from now, whichever comes first.
    func earlier(than ms: Int) -> Deadline {
        Deadline(min(instant, .now + .milliseconds(ms)))
    }
}

/// Why an upstream call got no usable response.
enum HTTPClientError: Error, Equatable {
    case connectFailed(String)
    case connectTimedOut(Int)
    case timedOut
    /// The connection failed or closed mid-call.
    case closed(String)
    /// The response broke HTTP/1.1.
    case malformed(String)
    /// The response body is over the limit.
    case tooLarge(Int)
}
