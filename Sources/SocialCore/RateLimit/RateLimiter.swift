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

    /// A session's rate-limit state: kept per connection, so it is small and
    /// inline (about 80 bytes, no allocation until a command is rejected).
    struct Session: Sendable {
        /// The bot account whose shared message bucket the session takes from; nil for a person.
        var bot: UserID?
        var buckets: SessionBuckets
        var flood = FloodWindow()
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

    /// The limit of `rateClass` that a session's own bucket keeps (nil: none,
    /// and a bot's messages count in its account's shared bucket instead).
    private func sessionLimit(_ rateClass: RateClass, bot: Bool) -> RateLimit? {
        if bot && rateClass == .messages { return nil }
        return settings.limit(rateClass, for: bot ? .bot : .user)
    }

    /// Makes the buckets of a new session (full).
    public mutating func open(_ caller: Caller, now: Int64) {
        guard sessions[caller.sessionId] == nil else { return }
        let isBot = caller.kind == .bot
        if isBot, let limit = settings.botMessages {
            bots[caller.userId, default: Shared(bucket: TokenBucket(limit, now: now), sessions: 0)].sessions += 1
        }
        let buckets = SessionBuckets(now: now) { sessionLimit($0, bot: isBot) }
        sessions[caller.sessionId] = Session(bot: isBot ? caller.userId : nil, buckets: buckets)
    }

    /// Drops a closed session's buckets (and its bot's, with its last session).
    public mutating func close(sessionId: String) {
        guard let session = sessions.removeValue(forKey: sessionId) else { return }
        if let bot = session.bot, var shared = bots[bot] {
            shared.sessions -= 1
            bots[bot] = shared.sessions > 0 ? shared : nil
        }
    }

    /// Decides whether `op` from `sessionId` runs now. A command takes a token
    /// from the `commands` bucket and from its class's bucket, or from none
    /// when either is empty (its retry time is then the longer wait); a
    /// `ping` from its own bucket only (`RateLimits.ownBucketOps`).
    public mutating func admit(_ op: String, sessionId: String, now: Int64) -> RateDecision {
        // Taken out and put back, so its buckets are mutated in place (no copy).
        guard var session = sessions.removeValue(forKey: sessionId) else { return .admit }
        let isBot = session.bot != nil
        session.buckets.refill(now: now) { sessionLimit($0, bot: isBot) }
        let opClass = RateLimits.opClasses[op]
        let countsCommands = !RateLimits.ownBucketOps.contains(op)
        var waitMs: Int64 = 0
        var limiting: RateClass = .commands
        if countsCommands, let limit = settings.commands {
            waitMs = limit.msUntilToken(session.buckets[.commands])
        }
        let sharedBot = opClass == .messages ? session.bot : nil
        if let opClass {
            var classWait: Int64 = 0
            if let bot = sharedBot {
                if bots[bot] != nil {
                    bots[bot]!.bucket.refill(now: now)
                    classWait = bots[bot]!.bucket.msUntilToken
                }
            } else if let limit = sessionLimit(opClass, bot: isBot) {
                classWait = limit.msUntilToken(session.buckets[opClass])
            }
            if classWait > waitMs {
                waitMs = classWait
                limiting = opClass
            }
        }
        let decision: RateDecision
        if waitMs == 0 {
            if countsCommands { session.buckets[.commands] -= 1 }
            if let opClass {
                if let bot = sharedBot { bots[bot]?.bucket.consume() } else { session.buckets[opClass] -= 1 }
            }
            decision = .admit
        } else if session.flood.reject(now: now, count: settings.floodRejections, windowMs: settings.floodWindowMs) {
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
