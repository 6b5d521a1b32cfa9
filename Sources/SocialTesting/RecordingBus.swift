import Foundation
import SocialCore

/// An `EventBus` that records what is published, for tests: every event in
/// order, and each `publish` call as one batch (to check what went out
/// together and in which order). Also delivers to an attached sink, like the
/// local bus, so it can stand in for it in wiring tests.
///
/// Thread-safe: every stored property is read and written under `lock`,
/// which is why the `@unchecked Sendable` is sound.
public final class RecordingBus: EventBus, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [[BusEvent]] = []
    private var interest: [Topic: Bool] = [:]
    private weak var sink: (any BusSink)?

    public init() {}

    public func attach(_ sink: any BusSink) {
        lock.withLock { self.sink = sink }
    }

    public func publish(_ events: [BusEvent]) {
        let sink = lock.withLock {
            recorded.append(events)
            return self.sink
        }
        sink?.deliver(events)
    }

    public func setInterest(_ topic: Topic, _ interested: Bool) {
        lock.withLock { interest[topic] = interested }
    }

    public func isHealthy() -> Bool { true }

    /// Each `publish` call's events, oldest first.
    public var batches: [[BusEvent]] { lock.withLock { recorded } }

    /// Every published event, in publishing order.
    public var events: [BusEvent] { batches.flatMap { $0 } }

    /// The events published to `topic`, in order.
    public func events(on topic: Topic) -> [BusEvent] { events.filter { $0.topic == topic } }

    /// The last `setInterest` for each topic.
    public var interests: [Topic: Bool] { lock.withLock { interest } }

    /// Forgets what was recorded so far.
    public func reset() {
        lock.withLock { recorded.removeAll() }
    }
}

extension BusEvent {
    /// The event name of the push in `frame` (nil for an empty or unreadable frame).
    public var eventName: String? {
        (try? JSONDecoder().decode(PushName.self, from: Data(frame)))?.event
    }

    /// The push's `data`, decoded as `Payload`.
    public func payload<Payload: Decodable>(_ type: Payload.Type) throws -> Payload {
        try JSONDecoder().decode(PushData<Payload>.self, from: Data(frame)).data
    }
}

private struct PushName: Decodable {
    let event: String
}

private struct PushData<Payload: Decodable>: Decodable {
    let data: Payload
}
