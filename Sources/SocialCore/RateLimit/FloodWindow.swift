/// The times of a session's latest rejected commands, to tell a client that
/// waits after `rate_limited` from one that keeps flooding: the session is
/// closed once `count` rejections fall within `windowMs`.
///
/// Pure: the caller passes the time and the policy (`RateLimits`: every
/// session has the same). Memory: 16 bytes, and `count` timestamps allocated
/// at the first rejection.
struct FloodWindow: Sendable, Equatable {
    private var times: [Int64] = []
    private var next = 0

    /// Records a rejection at `now`; true when it is the `count`-th within `windowMs`.
    mutating func reject(now: Int64, count: Int, windowMs: Int64) -> Bool {
        guard count > 0 else { return false }
        if times.count < count {
            times.append(now)
            next = times.count % count
            return times.count == count && now - times[0] < windowMs
        }
        // `times[next]` is the oldest of the last `count` rejections.
        let oldest = times[next]
        times[next] = now
        next = (next + 1) % count
        return now - oldest < windowMs
    }
}
