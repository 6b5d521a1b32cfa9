import SocialProtocol

/// One WebSocket session's lifecycle as a value with no I/O: the transport
/// tells it what happened and does what it answers (swift-websocket's
/// `WebSocketStateMachine` is the model). Unit-tested without sockets.
///
/// Phases: **loading** (its chats' subscriptions are being read; commands
/// wait) → **ready** → **closing** (a close code was chosen; the close frame
/// goes out on the next writable callback, nothing else does). The command
/// order of the session (`CommandOrder`) lives here too, so what may start
/// depends on the phase in one place.
struct SessionMachine<Job> {
    enum Phase: Equatable, Sendable {
        case loading
        case ready
        case closing
    }

    /// The timing rules a session is held to.
    struct Timing: Sendable {
        /// No frame and no pong for this long: close with 4000.
        var idleTimeoutMs: Int64
        /// A ping goes out this often.
        var pingIntervalMs: Int64
        /// Seconds past its token's `exp` a session may live (the JWT leeway).
        var tokenLeewaySeconds: Double
    }

    /// What the transport must do at a tick.
    enum TickAction: Equatable {
        case none
        case ping
        case close(CloseCode, reason: String)
    }

    /// What the transport must do with an arriving command.
    enum Arrival {
        /// Too many in flight: answer `overloaded` at once, outside the order.
        case refuse
        /// Accepted in `slot`.
        case accepted(slot: UInt64)
    }

    private(set) var phase: Phase = .loading
    private(set) var closeCode: CloseCode?
    private(set) var order = CommandOrder<Job>()
    let timing: Timing
    let maxInflight: Int
    /// When the access token expires (seconds since 1970).
    let tokenExpiresAt: Double
    private(set) var lastReceiveMs: Int64
    private(set) var lastPingMs: Int64

    init(timing: Timing, maxInflight: Int, tokenExpiresAt: Double, now: Int64) {
        self.timing = timing
        self.maxInflight = maxInflight
        self.tokenExpiresAt = tokenExpiresAt
        lastReceiveMs = now
        lastPingMs = now
    }

    /// The session's chats are subscribed: commands may start.
    mutating func loaded() -> [CommandOrder<Job>.Started] {
        if phase == .loading { phase = .ready }
        return startable()
    }

    /// A frame or a pong arrived.
    mutating func received(now: Int64) {
        lastReceiveMs = now
    }

    /// A command arrived. Immediate ones are finished with their reply by
    /// the caller at once (`finish`); the others start when `startable` says.
    mutating func arrive(_ lane: CommandOrder<Job>.Lane, job: Job?) -> Arrival {
        guard order.inflight < maxInflight else { return .refuse }
        return .accepted(slot: order.arrive(lane, job: job))
    }

    /// The commands that may start now (none while loading or closing).
    mutating func startable() -> [CommandOrder<Job>.Started] {
        guard phase == .ready else { return [] }
        return order.startable()
    }

    /// A command finished: the replies to send now, in order (none once closing).
    mutating func finish(_ slot: UInt64, lane: CommandOrder<Job>.Lane, reply: [UInt8]) -> [[UInt8]] {
        let replies = order.finish(slot, lane: lane, reply: reply)
        return phase == .closing ? [] : replies
    }

    /// Starts closing with `code`; false when a close is already under way.
    /// Commands that have not started are dropped.
    mutating func close(_ code: CloseCode) -> Bool {
        guard phase != .closing else { return false }
        phase = .closing
        closeCode = code
        _ = order.dropWaiting()
        return true
    }

    /// Once a second: token expiry (1008), idle timeout (4000), or a ping due.
    mutating func tick(now: Int64, wallSeconds: Double) -> TickAction {
        guard phase != .closing else { return .none }
        if wallSeconds > tokenExpiresAt + timing.tokenLeewaySeconds {
            return .close(.policyViolation, reason: "access token expired; reconnect with a fresh token")
        }
        if now - lastReceiveMs > timing.idleTimeoutMs {
            return .close(.idleTimeout, reason: "idle timeout")
        }
        if now - lastPingMs >= timing.pingIntervalMs {
            lastPingMs = now
            return .ping
        }
        return .none
    }

    /// The earliest time (monotonic ms) at which `tick` may answer something
    /// other than `.none`: the next ping, the idle deadline as of now, or the
    /// token's expiry. A frame received later only moves the idle deadline
    /// later, so a tick at this time is early at worst, never late.
    func nextCheck(now: Int64, wallSeconds: Double) -> Int64 {
        let idle = lastReceiveMs + timing.idleTimeoutMs + 1
        let ping = lastPingMs + timing.pingIntervalMs
        let tokenSeconds = tokenExpiresAt + timing.tokenLeewaySeconds - wallSeconds
        // Past `exp + leeway` by a millisecond; clamped so that a far expiry cannot overflow.
        let token = now + Int64(min(max(tokenSeconds, 0), 1e9) * 1000) + 1
        return min(idle, ping, token)
    }

    /// How long a draining session must have received nothing before it is closed.
    static var drainQuietMs: Int64 { 300 }

    /// While the node drains: whether this session may be closed with 1001
    /// now: its commands are answered, its queue is sent (`queueEmpty`) and
    /// it has been quiet for `drainQuietMs` (frames sent before the signal
    /// may still be in the socket: they get replies too); or the deadline passed.
    func mayCloseForDrain(now: Int64, queueEmpty: Bool, pastDeadline: Bool) -> Bool {
        guard phase != .closing else { return false }
        if pastDeadline { return true }
        return order.isIdle && queueEmpty && now - lastReceiveMs >= Self.drainQuietMs
    }
}
