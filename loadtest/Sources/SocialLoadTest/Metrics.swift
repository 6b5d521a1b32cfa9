import Foundation
import SocialTesting

/// The counts of the clients of one client loop. The loop's thread records
/// replies and deliveries, the worker's scheduler thread records sends; the
/// lock guards every field, hence `@unchecked Sendable`.
final class Metrics: @unchecked Sendable {
    private let lock = NSLock()
    private var tally = Tally()
    private var seconds: [Second] = []
    /// Takes what happens outside the clock's seconds; never read. A member,
    /// not a local: a `Second` holds two histograms, too costly to make per event.
    private var discarded = Second()
    /// Monotonic time of second 0 (the start signal); nil before it.
    private var originNs: UInt64?

    func startClock(at ns: UInt64) { lock.lock(); originNs = ns; lock.unlock() }

    /// Changes the tally and, when the clock runs, the current second.
    func record(_ now: UInt64 = nowNs(), _ change: (inout Tally, inout Second) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        guard let origin = originNs, now >= origin else {
            change(&tally, &discarded)
            return
        }
        let index = Int((now - origin) / 1_000_000_000)
        if index >= seconds.count {
            // A run is bounded in time; a wild clock cannot grow this without bound.
            guard index < 86_400 else { change(&tally, &discarded); return }
            seconds.append(contentsOf: repeatElement(Second(), count: index + 1 - seconds.count))
        }
        change(&tally, &seconds[index])
    }

    func snapshot() -> (Tally, [Second]) {
        lock.lock(); defer { lock.unlock() }
        return (tally, seconds)
    }
}
