/// One backend the node needs to serve (the store, the bus, presence), as
/// `/readyz` reports it: a name and a probe that says why it cannot serve.
public struct BackendCheck: Sendable {
    /// How `/readyz` names the backend: `mongodb`, `sqlite`, `memory`,
    /// `redis_bus`, `redis_presence`, `local_bus`.
    public var name: String
    /// Why the backend cannot serve now, or nil when it can. May take as long
    /// as the backend's own timeout; the prober bounds how long it waits.
    public var probe: @Sendable () async -> String?

    public init(name: String, probe: @escaping @Sendable () async -> String?) {
        self.name = name
        self.probe = probe
    }
}

/// One backend's last answer.
public struct BackendStatus: Sendable, Equatable, Codable {
    public var name: String
    public var ready: Bool
    /// Why it is not ready (nil when it is).
    public var reason: String?

    public init(name: String, ready: Bool, reason: String? = nil) {
        self.name = name
        self.ready = ready
        self.reason = reason
    }
}
