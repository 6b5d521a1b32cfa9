import Foundation

/// Milliseconds on the monotonic clock, for timeouts.
func monotonicMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

/// Milliseconds since 1970, for timestamps on the wire.
func wallMillis() -> Int64 {
    Int64(Date().timeIntervalSince1970 * 1000)
}
