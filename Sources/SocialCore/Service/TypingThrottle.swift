/// Remembers when each (user, device, chat) last broadcast a typing
/// indicator, so a client that sends one per keystroke costs one event per
/// interval. The table stays bounded: entries older than the interval are
/// swept once per interval, and while it is full of fresh entries new keys
/// are refused (typing is ephemeral, the first thing to shed under load).
///
/// A value type with no I/O: the command pipeline that owns it lives on one
/// thread (the transport's service thread).
public struct TypingThrottle: Sendable {
    struct Key: Hashable, Sendable {
        var user: UserID
        var device: String
        var chat: ChatID
    }

    private let intervalMs: Int64
    private let capacity: Int
    private var lastSent: [Key: Int64] = [:]
    private var lastSweep: Int64 = .min

    /// - Parameters:
    ///   - intervalMs: the shortest time between two admitted indicators of one key.
    ///   - capacity: the most keys remembered.
    init(intervalMs: Int64, capacity: Int) {
        self.intervalMs = max(0, intervalMs)
        self.capacity = max(1, capacity)
    }

    /// Whether `key` may broadcast now; records it when it may.
    mutating func admit(_ key: Key, now: Int64) -> Bool {
        if lastSweep == .min || now - lastSweep >= intervalMs { sweep(now) }
        if let last = lastSent[key], now - last < intervalMs, now >= last { return false }
        guard lastSent[key] != nil || lastSent.count < capacity else { return false }
        lastSent[key] = now
        return true
    }

    /// How many keys are remembered (for tests and metrics).
    var count: Int { lastSent.count }

    /// Forgets every key whose last indicator is an interval old or more.
    private mutating func sweep(_ now: Int64) {
        lastSweep = now
        lastSent = lastSent.filter { now - $0.value < intervalMs && now >= $0.value }
    }
}
