import Foundation

/// Idle keep-alive connections per upstream, so a call usually skips the TCP handshake.
///
/// Threads: any (proxy workers). `@unchecked Sendable` because `idle` is only
/// touched under `lock`, and a connection is used by one worker at a time:
/// taken out of the pool before use, put back after.
final class ConnectionPool: @unchecked Sendable {
    /// An idle connection older than this is closed rather than reused (servers
    /// commonly close idle connections after 5 s; a request racing that close fails).
    static let maxIdleMs: Int64 = 4000

    private let lock = NSLock()
    private var idle: [String: [HTTPConnection]] = [:]
    private let perUpstream: Int

    init(perUpstream: Int) { self.perUpstream = perUpstream }

    /// A live idle connection to `upstream`, or nil.
    func take(_ upstream: String) -> HTTPConnection? {
        let now = Self.nowMs()
        while true {
            lock.lock()
            let connection = idle[upstream]?.popLast()
            lock.unlock()
            guard let connection else { return nil }
            if now - connection.idleSince < Self.maxIdleMs, connection.buffer.isEmpty, connection.looksAlive() {
                return connection
            }
            // Dropped: deinit closes it.
        }
    }

    /// Keeps `connection` for the next call to `upstream`, unless enough are idle.
    func put(_ connection: HTTPConnection, _ upstream: String) {
        connection.reused = true
        connection.idleSince = Self.nowMs()
        lock.lock()
        defer { lock.unlock() }
        if idle[upstream, default: []].count < perUpstream { idle[upstream, default: []].append(connection) }
    }

    static func nowMs() -> Int64 {
        let now = ContinuousClock.now - ContinuousClock.Instant.zeroReference
        return now.components.seconds * 1000 + now.components.attoseconds / 1_000_000_000_000_000
    }
}

extension ContinuousClock.Instant {
    /// A fixed instant to measure milliseconds from.
    static let zeroReference = ContinuousClock.now
}
