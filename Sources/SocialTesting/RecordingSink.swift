import Foundation
import SocialCore

/// A `BusSink` that records what a bus delivers, for bus tests: every
/// `deliver` call as one batch, how many times `busInterrupted()` was called,
/// and the topics of each `busInterrupted(topics:)`, in order with the
/// deliveries (`log`).
///
/// Thread-safe: every stored property is read and written under `lock`,
/// which is why the `@unchecked Sendable` is sound.
public final class RecordingSink: BusSink, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [[BusEvent]] = []
    private var interruptionCount = 0
    private var scoped: [Set<Topic>] = []
    private var entries: [Entry] = []

    /// What the sink was told, in order.
    public enum Entry: Sendable, Equatable {
        case events([BusEvent])
        /// `busInterrupted()`: every session.
        case interrupted
        /// `busInterrupted(topics:)`.
        case lost(Set<Topic>)
    }

    public init() {}

    public func deliver(_ events: [BusEvent]) {
        lock.withLock {
            recorded.append(events)
            entries.append(.events(events))
        }
    }

    public func busInterrupted() {
        lock.withLock {
            interruptionCount += 1
            entries.append(.interrupted)
        }
    }

    public func busInterrupted(topics: Set<Topic>) {
        lock.withLock {
            scoped.append(topics)
            entries.append(.lost(topics))
        }
    }

    /// Each `busInterrupted(topics:)` call's topics, oldest first.
    public var lostTopics: [Set<Topic>] { lock.withLock { scoped } }

    /// Everything the sink was told, in order.
    public var log: [Entry] { lock.withLock { entries } }

    /// Each `deliver` call's events, oldest first.
    public var batches: [[BusEvent]] { lock.withLock { recorded } }

    /// Every delivered event, in delivery order.
    public var events: [BusEvent] { batches.flatMap { $0 } }

    /// How many times the bus reported lost events of every topic (`busInterrupted()`).
    public var interruptions: Int { lock.withLock { interruptionCount } }
}

/// Polls `condition` every `interval` seconds until it holds or `timeout`
/// seconds have passed; returns whether it held.
public func eventually(timeout: Double = 10, interval: Double = 0.01, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(nanoseconds: UInt64(interval * 1_000_000_000))
    }
    return condition()
}
