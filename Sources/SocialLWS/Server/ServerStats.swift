import Foundation

/// Counters the server keeps for operators. Any thread reads a snapshot; the
/// service thread and command tasks add. The lock guards `values`.
public final class ServerStats: @unchecked Sendable {
    public enum Counter: String, CaseIterable, Sendable {
        case connectionsOpened = "connections_opened"
        case connectionsClosed = "connections_closed"
        case handshakesRejected = "handshakes_rejected"
        case commands
        case framesSent = "frames_sent"
        case ephemeralDropped = "ephemeral_dropped"
        case slowConsumerCloses = "slow_consumer_closes"
        case oversizeCloses = "oversize_closes"
        case idleCloses = "idle_closes"
        case tokenExpiredCloses = "token_expired_closes"
    }

    private let lock = NSLock()
    private var values: [Counter: Int] = [:]
    private var open = 0

    func add(_ counter: Counter, _ n: Int = 1) {
        lock.lock()
        values[counter, default: 0] += n
        lock.unlock()
    }

    func setOpen(_ n: Int) {
        lock.lock()
        open = n
        lock.unlock()
    }

    public func value(_ counter: Counter) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return values[counter] ?? 0
    }

    public var openConnections: Int {
        lock.lock()
        defer { lock.unlock() }
        return open
    }
}
