/// A wire value with a hand-written encoder: the events every connection gets
/// (`hello`, `presence`) cost a `JSONEncoder` run each otherwise, several
/// microseconds per connection set up. `json` is what `Codec.encode` writes
/// (the same keys, optional fields omitted when absent), in a fixed key order;
/// `FastPathTests` checks the two agree.
public protocol HandEncoded: Encodable {
    /// The value as one JSON object.
    var json: [UInt8] { get }
}

extension HelloEvent: HandEncoded {
    public var json: [UInt8] {
        var out = FrameBuilder(capacity: 192)
        out.string("version", version)
        out.string("session_id", sessionId)
        out.string("user_id", userId)
        out.string("device_id", deviceId)
        out.int("max_message_bytes", Int64(maxMessageBytes))
        out.int("ping_interval_ms", Int64(pingIntervalMs))
        out.int("idle_timeout_ms", Int64(idleTimeoutMs))
        return out.finish()
    }
}

extension WirePresence: HandEncoded {
    public var json: [UInt8] {
        var out = FrameBuilder(capacity: 96)
        out.string("user_id", userId)
        out.string("state", state)
        if let activity { out.string("activity", activity) }
        if let lastSeen { out.int("last_seen", lastSeen) }
        return out.finish()
    }
}

extension PresenceEvent: HandEncoded {
    public var json: [UInt8] {
        var out = FrameBuilder(capacity: 112)
        out.raw("presence", presence.json)
        return out.finish()
    }
}
