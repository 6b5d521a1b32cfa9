/// The in-process bus of a single node: publish delivers straight to the sink.
public final class LocalBus: EventBus, @unchecked Sendable {
    // `sink` is written once by `attach` before any `publish` (wiring order),
    // and only read afterwards.
    private weak var sink: (any BusSink)?

    public init() {}

    public func attach(_ sink: any BusSink) { self.sink = sink }

    public func publish(_ events: [BusEvent]) {
        guard !events.isEmpty else { return }
        sink?.deliver(events)
    }

    public func setInterest(_ topic: Topic, _ interested: Bool) {}

    public func isHealthy() -> Bool { true }
}
