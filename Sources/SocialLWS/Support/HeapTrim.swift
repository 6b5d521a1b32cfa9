/// When the tick hands the heap's free pages back to the system
/// (`sg_release_free_heap`, glibc's `malloc_trim`).
///
/// Each WebSocket handshake borrows memory that is freed once the socket is
/// upgraded or closed: lws's header table (up to `maxRequestHeadBytes`) and
/// the parse of the request. A burst of thousands of set-ups leaves megabytes
/// free inside the heap, which glibc keeps resident: 19,000 connections
/// opened at once left about 0.25 KiB per connection that no one used
/// (`loadtest/RESULTS.md`, "Memory per idle connection"). The trim runs once
/// `minSockets` sockets were accepted since the last one, in the first tick
/// with no new socket (the burst is over), or `maxWaitMs` after it became due
/// when sockets never stop coming. A value type for the service thread, tested without a heap.
struct HeapTrim {
    /// Sockets created since the last trim before one is worth it.
    static let minSockets = 1000
    /// The longest a due trim waits for a tick without new sockets.
    static let maxWaitMs: Int64 = 60_000

    private var sinceTrim = 0
    private var atLastTick = 0
    /// When `sinceTrim` reached `minSockets` (nil: not yet).
    private var dueSinceMs: Int64?

    /// A socket was created (accepted).
    mutating func socketCreated() { sinceTrim += 1 }

    /// Called by the tick: whether to trim now (then counted as done).
    mutating func isDue(now: Int64) -> Bool {
        defer { atLastTick = sinceTrim }
        guard sinceTrim >= Self.minSockets else { return false }
        let dueSince = dueSinceMs ?? now
        dueSinceMs = dueSince
        guard sinceTrim == atLastTick || now - dueSince >= Self.maxWaitMs else { return false }
        sinceTrim = 0
        dueSinceMs = nil
        return true
    }
}
