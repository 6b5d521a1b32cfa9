import Foundation

/// A clock tests move by hand, in milliseconds since 1970.
///
/// Thread-safe: `current` is only touched under `lock`, which is why the
/// `@unchecked Sendable` is sound.
public final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Int64

    /// - Parameter start: the first reading, in milliseconds since 1970.
    public init(start: Int64 = 1_700_000_000_000) {
        current = start
    }

    /// The current reading.
    public var now: Int64 { lock.withLock { current } }

    /// Moves the clock forward by `ms` milliseconds.
    public func advance(by ms: Int64) {
        lock.withLock { current += ms }
    }

    /// The clock as the closure `Dispatcher` takes.
    public var read: @Sendable () -> Int64 { { self.now } }
}
