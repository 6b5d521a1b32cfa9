/// What the rate limiter decides about one command.
public enum RateDecision: Sendable, Equatable {
    case admit
    /// Over the limit of `rateClass`: reply `rate_limited`, retry after `retryAfterMs`.
    case reject(RateClass, retryAfterMs: Int64)
    /// Rejected, and the client kept going past the flood policy: reply
    /// `rate_limited`, then close the connection with 4004.
    case close(RateClass, retryAfterMs: Int64)
}

/// The token buckets of every session of a node, and of every bot account with
/// sessions here.
///
/// Pure and clock-injected (every call passes the time in milliseconds), so it
/// is tested without sockets or sleeps; `SessionRateLimits` shares one between
/// tasks. A session's buckets exist from `open` to `close`; a bot's message
/// bucket from its first session's `open` to its last session's `close`.
/// Commands of a session that is not open (unit tests, a command finishing
/// after its session closed) are admitted.
public struct RateLimiter: Sendable {
    public let settings: RateLimits

    struct Session: Sendable {
        var user: UserID
        var kind: Caller.Kind
        var buckets: [RateClass: TokenBucket]
        var flood: FloodWindow
    }

    struct Shared: Sendable {
        var bucket: TokenBucket
        var sessions: Int
    }

    private var sessions: [String: Session] = [:]
    /// Bot accounts' message buckets, by user.
    private var bots: [UserID: Shared] = [:]

    public init(settings: RateLimits) {
        self.settings = settings
    }

    /// Makes the buckets of a new session (full).
    public mutating func open(_ caller: Caller, now: Int64) {
        guard sessions[caller.sessionId] == nil else { return }
        var buckets: [RateClass: TokenBucket] = [:]
        for rateClass in RateClass.allCases {
            if caller.kind == .bot && rateClass == .messages { continue }
            if let limit = settings.limit(rateClass, for: caller.kind) { buckets[rateClass] = TokenBucket(limit, now: now) }
        }
        if caller.kind == .bot, let limit = settings.botMessages {
            bots[caller.userId, default: Shared(bucket: TokenBucket(limit, now: now), sessions: 0)].sessions += 1
        }
        sessions[caller.sessionId] = Session(user: caller.userId, kind: caller.kind, buckets: buckets,
                                             flood: FloodWindow(count: settings.floodRejections,
                                                                windowMs: settings.floodWindowMs))
    }

    /// Drops a closed session's buckets (and its bot's, with its last session).
    public mutating func close(sessionId: String) {
        guard let session = sessions.removeValue(forKey: sessionId) else { return }
        if session.kind == .bot, var shared = bots[session.user] {
            shared.sessions -= 1
            bots[session.user] = shared.sessions > 0 ? shared : nil
        }
    }

    /// Decides whether `op` from `sessionId` runs now. A command takes a token
    /// from the `commands` bucket and from its class's bucket, or from none
    /// when either is empty (its retry time is then the longer wait); a
    /// `ping` from its own bucket only (`RateLimits.ownBucketOps`).
    public mutating func admit(_ op: String, sessionId: String, now: Int64) -> RateDecision {
        // Taken out and put back, so its buckets are mutated in place (no copy).
        guard var session = sessions.removeValue(forKey: sessionId) else { return .admit }
        let opClass = RateLimits.opClasses[op]
        let countsCommands = !RateLimits.ownBucketOps.contains(op)
        var waitMs: Int64 = 0
        var limiting: RateClass = .commands
        if countsCommands, session.buckets[.commands] != nil {
            session.buckets[.commands]!.refill(now: now)
            waitMs = session.buckets[.commands]!.msUntilToken
        }
        let sharedBot = opClass == .messages && session.kind == .bot
        if let opClass {
            var classWait: Int64 = 0
            if sharedBot {
                if bots[session.user] != nil {
                    bots[session.user]!.bucket.refill(now: now)
                    classWait = bots[session.user]!.bucket.msUntilToken
                }
            } else if session.buckets[opClass] != nil {
                session.buckets[opClass]!.refill(now: now)
                classWait = session.buckets[opClass]!.msUntilToken
            }
            if classWait > waitMs {
                waitMs = classWait
                limiting = opClass
            }
        }
        let decision: RateDecision
        if waitMs == 0 {
            if countsCommands { session.buckets[.commands]?.consume() }
            if let opClass {
                if sharedBot { bots[session.user]?.bucket.consume() } else { session.buckets[opClass]?.consume() }
            }
            decision = .admit
        } else if session.flood.reject(now: now) {
            decision = .close(limiting, retryAfterMs: waitMs)
        } else {
            decision = .reject(limiting, retryAfterMs: waitMs)
        }
        sessions[sessionId] = session
        return decision
    }

    /// Sessions with buckets.
    public var sessionCount: Int { sessions.count }
    /// Bot accounts with a shared message bucket.
    public var botCount: Int { bots.count }
}

/// One `RateLimiter` shared by the tasks that run commands and open and close
/// sessions. The dispatcher skips it entirely when no limit is set.
public actor SessionRateLimits {
    private var limiter: RateLimiter

    public init(settings: RateLimits) {
        limiter = RateLimiter(settings: settings)
    }

    public func open(_ caller: Caller, now: Int64) { limiter.open(caller, now: now) }
    public func close(sessionId: String) { limiter.close(sessionId: sessionId) }
    public func admit(_ op: String, sessionId: String, now: Int64) -> RateDecision {
        limiter.admit(op, sessionId: sessionId, now: now)
    }
    public var sessionCount: Int { limiter.sessionCount }
    public var botCount: Int { limiter.botCount }
}
