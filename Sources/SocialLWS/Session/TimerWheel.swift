/// Which sessions the once-a-second tick must look at: a wheel of
/// one-second slots, each listing the ids whose next check falls in that
/// second. A tick visits only the slots it has passed, so 19,000 idle
/// sessions cost a visit each per ping interval, not per second.
///
/// An id stays in its slot after its session is gone; the caller skips ids
/// it no longer knows. A deadline beyond the wheel's span waits in the last
/// slot and is scheduled again from there. Service thread (a value).
struct TimerWheel {
    private var slots: [[UInt64]]
    /// The next second (monotonic ms / 1000) to visit.
    private var cursor: Int64

    /// `span` seconds ahead at most; `now` in monotonic ms.
    init(span: Int = 128, now: Int64) {
        slots = Array(repeating: [], count: max(2, span))
        cursor = now / 1000
    }

    /// How many ids wait, the stale ones included.
    var count: Int { slots.reduce(0) { $0 + $1.count } }

    /// `id` is visited by the first `due(now:)` whose second is past or at `dueMs`'s.
    mutating func schedule(_ id: UInt64, at dueMs: Int64) {
        let second = (dueMs + 999) / 1000
        let slot = min(max(second, cursor), cursor + Int64(slots.count) - 1)
        slots[index(slot)].append(id)
    }

    /// The ids whose second has come, each once; they leave the wheel.
    mutating func due(now: Int64) -> [UInt64] {
        let last = now / 1000
        guard last >= cursor else { return [] }
        // After a stall longer than the wheel, every slot is due once.
        let first = max(cursor, last - Int64(slots.count) + 1)
        var ids: [UInt64] = []
        for second in first...last {
            let i = index(second)
            ids.append(contentsOf: slots[i])
            slots[i].removeAll(keepingCapacity: true)
        }
        cursor = last + 1
        return ids
    }

    private func index(_ second: Int64) -> Int { Int(second % Int64(slots.count)) }
}
