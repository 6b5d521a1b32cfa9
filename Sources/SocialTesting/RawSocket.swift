import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP socket with timeouts, for tests that speak bytes the
/// WebSocket client would never send (unmasked or malformed frames) and for
/// plain HTTP requests.
public final class RawSocket {
    public let fd: Int32

    public init(host: String = "127.0.0.1", port: Int, timeout: Double = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw MinterError("socket() failed") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &addr.sin_addr)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        // No close(fd) here: every stored property is set, so a throw runs
        // `deinit`, which closes it. Closing twice would close whatever
        // descriptor another thread opened under the same number meanwhile
        // (seen as EBADF in hiredis connects and port 0 from `freePort`).
        guard rc == 0 else { throw MinterError("connect to \(host):\(port) failed: errno \(errno)") }
    }

    deinit { close(fd) }

    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw MinterError("send failed: errno \(errno)") }
            offset += n
        }
    }

    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Reads what is available (blocking up to the timeout); empty at EOF or timeout.
    public func receive(max: Int = 65536) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: max)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, max, 0) }
        return n > 0 ? Array(buffer[0..<n]) : []
    }

    /// Reads until `predicate` holds on everything read so far, or EOF/timeout.
    public func receive(until predicate: ([UInt8]) -> Bool) -> [UInt8] {
        var all: [UInt8] = []
        while !predicate(all) {
            let chunk = receive()
            if chunk.isEmpty { break }
            all += chunk
        }
        return all
    }

    /// Reads until the peer closes (or the timeout).
    public func receiveAll() -> [UInt8] { receive(until: { _ in false }) }

    /// A free TCP port on the loopback interface.
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

/// A plain HTTP/1.1 response.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: String
}

extension RawSocket {
    /// Sends a raw HTTP request (with `Connection: close`) and parses the response.
    public static func http(port: Int, method: String = "GET", path: String, headers: [String: String] = [:],
                            timeout: Double = 5) throws -> HTTPResponse {
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (k, v) in headers { request += "\(k): \(v)\r\n" }
        return try exchange(port: port, request: request + "\r\n", timeout: timeout)
    }

    /// Sends `request` as is and reads one response: its head, and its body
    /// by Content-Length (none for 101 Switching Protocols).
    public static func exchange(port: Int, request: String, timeout: Double = 5) throws -> HTTPResponse {
        let socket = try RawSocket(port: port, timeout: timeout)
        try socket.send(request)
        let raw = socket.receive(until: { bytes in
            // The head is ASCII; what follows a 101 is WebSocket frames, not text.
            let text = String(decoding: bytes, as: UTF8.self)
            guard let end = text.range(of: "\r\n\r\n") else { return false }
            let head = text[..<end.lowerBound].lowercased()
            if head.hasPrefix("http/1.1 101") { return true }
            if let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
               let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) {
                return text.utf8.count - text[..<end.upperBound].utf8.count >= length
            }
            return false
        })
        return try parse(raw)
    }

    /// Parses one raw HTTP/1.1 response (head and whatever body follows).
    public static func parse(_ raw: [UInt8]) throws -> HTTPResponse {
        let text = String(decoding: raw, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { throw MinterError("no HTTP response: \(text.prefix(200))") }
        let lines = text[..<end.lowerBound].split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.split(separator: " ").count >= 2,
              let status = Int(statusLine.split(separator: " ")[1]) else { throw MinterError("bad status line") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return HTTPResponse(status: status, headers: headers, body: String(text[end.upperBound...]))
    }
}
